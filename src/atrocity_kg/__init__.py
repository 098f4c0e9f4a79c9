"""atrocity-kg: the open knowledge graph of atrocity-prevention evidence."""

from importlib.metadata import PackageNotFoundError, version

# pyproject.toml's `version` is the one place the package's version is written: the CLI's
# --version, the home page and the OpenAPI document read it here from the installed metadata.
# (The ontology's owl:versionInfo is another number on purpose: it versions the vocabulary.)
try:
    __version__ = version("atrocity-kg")
except PackageNotFoundError:  # a source tree on sys.path that was never installed
    __version__ = "0+unknown"
