"""Events: tonight's client — a name, the slots it uses, when it runs, its look on the guests'
pages, its spend cap and its photo webhook. A photo belongs to the event live for its slot when it
arrived (recorded on the job)."""
