"""jobsdb: the Python toolkit of the jobsdb PostgreSQL package."""

__version__ = "0.1.0"
