"""The release: one number for the package, the command line and the report."""

__version__ = "0.2.0"
