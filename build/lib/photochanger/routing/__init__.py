"""Routing: which route makes a slot's image, under one deadline, and how healthy each route is."""
