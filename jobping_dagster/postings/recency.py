"""Which postings are recent enough to act on."""

from datetime import timedelta

# A posting last seen within this window counts as recent: it can still be matched, so
# its company's research is kept up to date, and `jobping matches` pulls from it. Older
# postings are never matched again.
FAN_OUT_WINDOW = timedelta(days=7)

# The selection's age rule: a posting whose board date is older than this (counted from the
# day it is selected) is never chosen for matching.
MAX_POSTING_AGE = timedelta(days=30)
