"""Which postings are recent enough to act on."""

from datetime import timedelta

# A posting last seen within this window counts as recent: it can still be matched, so
# its company's research is kept up to date, and `jobping matches` pulls from it. Older
# postings are never matched again.
FAN_OUT_WINDOW = timedelta(days=7)
