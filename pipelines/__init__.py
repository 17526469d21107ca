"""doisoat pipelines. Importing the package switches library analytics off (pipelines/offline.py)
before any code path can import Great Expectations or Prefect."""

from pipelines import offline  # noqa: F401
