"""skinrec: scores topical skincare products for use after microneedling.

Nothing here is medical advice; every surface defers to the provider's own protocol.
"""

__version__ = "0.1.0"

DISCLAIMER = (
    "Not medical advice. skinrec applies a published-convention protocol to an ingredient "
    "list; follow your provider's own aftercare protocol, which takes precedence."
)
