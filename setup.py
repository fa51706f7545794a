"""Package definition. Kept as setup.py because Dataflow workers install `--setup_file`."""

import re
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent
VERSION = re.search(r'__version__ = "([^"]+)"', (HERE / "pipeline/__init__.py").read_text())[1]


def pinned(requirements_in: str) -> list[str]:
    """The top-level pins; the full, hashed lock is requirements.lock."""
    lines = (HERE / requirements_in).read_text().splitlines()
    return [line.split("#")[0].strip() for line in lines if line.split("#")[0].strip()]


setup(
    name="newsbeam",
    version=VERSION,
    description="Streaming news ingestion on Apache Beam: feeds to structured article records.",
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    python_requires=">=3.11",
    packages=find_packages(
        include=["pipeline", "pipeline.*", "transforms", "transforms.*", "schemas"]
    ),
    package_data={
        "schemas": ["*.json"],
        "pipeline.demo_site": ["files/*", "files/**/*"],
        "pipeline": ["templates/*.j2"],
    },
    include_package_data=True,
    install_requires=pinned("requirements.in"),
    entry_points={"console_scripts": ["newsbeam = pipeline.cli:main"]},
)
