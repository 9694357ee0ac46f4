"""Screens and modal dialogs, one module per feature."""
