"""The 15 fixed booth slots: provider, prompt, settings, templates."""
