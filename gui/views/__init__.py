"""Reusable widgets the panels (``gui.panels``) are made of; each draws what it is given."""
