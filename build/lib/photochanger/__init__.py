"""PhotoChanger: photobooth gateway to generative image AI."""
