"""RVU Edge: CMS Physician Fee Schedule reference, pricing engine and private wRVU log."""

__version__ = "0.1.0"
