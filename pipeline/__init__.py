"""newsbeam: streaming news ingestion on Apache Beam (options, wiring, entry point)."""

__version__ = "0.1.0"
PROJECT_URL = "https://github.com/newsbeam/newsbeam"
USER_AGENT = f"newsbeam/{__version__} (+{PROJECT_URL})"
