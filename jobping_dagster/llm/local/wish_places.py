"""Places a wish may name, for the wish reader: countries and regions as ISO 3166-1 alpha-2
codes, known cities with the countries they may be in, and each country's currency."""

from __future__ import annotations

_EUROPE = (
    "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE "
    "IS LI NO CH GB"
).split()
_US_STATES = """alabama alaska arizona arkansas california colorado connecticut delaware
    florida hawaii idaho illinois indiana iowa kansas kentucky louisiana maine maryland
    massachusetts michigan minnesota mississippi missouri montana nebraska nevada
    newhampshire newjersey newmexico northcarolina northdakota ohio oklahoma oregon
    pennsylvania rhodeisland southcarolina southdakota tennessee texas utah vermont virginia
    washington westvirginia wisconsin wyoming midwest westcoast eastcoast dc""".split()

# Words that name a country or a region of countries -> ISO 3166-1 alpha-2 codes.
COUNTRIES: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(("europe", "european", "eu", "eea"), tuple(_EUROPE)),
    **dict.fromkeys(("usa", "america", "unitedstates", *_US_STATES), ("US",)),
    **dict.fromkeys(
        ("uk", "unitedkingdom", "britain", "greatbritain", "england", "scotland", "wales"),
        ("GB",),
    ),
    "canada": ("CA",),
    "northamerica": ("US", "CA"),
    **dict.fromkeys(("nordics", "nordic"), ("DK", "FI", "IS", "NO", "SE")),
    "scandinavia": ("DK", "NO", "SE"),
    "benelux": ("BE", "NL", "LU"),
    "dach": ("DE", "AT", "CH"),
    **dict.fromkeys(("germany", "deutschland"), ("DE",)),
    "france": ("FR",),
    "spain": ("ES",),
    **dict.fromkeys(("netherlands", "holland"), ("NL",)),
    "belgium": ("BE",),
    "ireland": ("IE",),
    "portugal": ("PT",),
    "italy": ("IT",),
    "poland": ("PL",),
    "sweden": ("SE",),
    "denmark": ("DK",),
    "finland": ("FI",),
    "austria": ("AT",),
    "switzerland": ("CH",),
    "czechia": ("CZ",),
    "greece": ("GR",),
    "romania": ("RO",),
    "hungary": ("HU",),
    "estonia": ("EE",),
    "latvia": ("LV",),
    "lithuania": ("LT",),
    "luxembourg": ("LU",),
    "norway": ("NO",),
    "croatia": ("HR",),
    "slovenia": ("SI",),
    "slovakia": ("SK",),
    "bulgaria": ("BG",),
    "cyprus": ("CY",),
    "malta": ("MT",),
    "iceland": ("IS",),
    "australia": ("AU",),
    "newzealand": ("NZ",),
    "india": ("IN",),
    "singapore": ("SG",),
    "japan": ("JP",),
    "brazil": ("BR",),
    "mexico": ("MX",),
    "israel": ("IL",),
    "uae": ("AE",),
    "southafrica": ("ZA",),
    "hongkong": ("HK",),
}
# Regions too wide to be a list of countries: noted, never a gate.
WIDE_REGIONS = {
    "emea": "EMEA",
    "apac": "APAC",
    "latam": "Latin America",
    "asia": "Asia",
    "africa": "Africa",
    "middleeast": "the Middle East",
    "americas": "the Americas",
}


def _cities(codes: str, names: str) -> dict[str, tuple[str, tuple[str, ...]]]:
    return {name: (name.title(), tuple(codes.split())) for name in names.split()}


# Known cities -> (how to show it, the countries it may be in).
CITIES: dict[str, tuple[str, tuple[str, ...]]] = {
    **_cities("DE", "berlin munich hamburg frankfurt cologne stuttgart dusseldorf leipzig"),
    **_cities("FR", "paris lyon toulouse marseille bordeaux lille"),
    **_cities("ES", "madrid barcelona valencia seville malaga"),
    **_cities("NL", "amsterdam rotterdam utrecht eindhoven"),
    **_cities("BE", "brussels antwerp ghent"),
    **_cities("IE", "dublin cork galway"),
    **_cities("PT", "lisbon porto"),
    **_cities("IT", "milan rome turin"),
    **_cities("PL", "warsaw krakow wroclaw gdansk"),
    **_cities("SE", "stockholm gothenburg malmo"),
    **_cities("DK", "copenhagen aarhus"),
    **_cities("FI", "helsinki"),
    **_cities("AT", "vienna"),
    **_cities("CH", "zurich geneva basel lausanne"),
    **_cities("CZ", "prague brno"),
    **_cities("GR", "athens"),
    **_cities("RO", "bucharest cluj"),
    **_cities("HU", "budapest"),
    **_cities("EE", "tallinn"),
    **_cities("LV", "riga"),
    **_cities("LT", "vilnius"),
    **_cities("NO", "oslo"),
    **_cities("HR", "zagreb"),
    **_cities("SI", "ljubljana"),
    **_cities("SK", "bratislava"),
    **_cities("BG", "sofia"),
    **_cities("GB", "london manchester edinburgh bristol oxford glasgow leeds belfast"),
    **_cities("GB US", "cambridge birmingham"),
    **_cities(
        "US",
        """seattle austin boston chicago denver atlanta miami dallas houston portland
        philadelphia phoenix detroit minneapolis pittsburgh nashville charlotte raleigh
        baltimore""",
    ),
    **_cities("CA", "toronto vancouver montreal ottawa calgary"),
    **_cities("AU", "sydney melbourne brisbane perth"),
    **_cities("IN", "bangalore bengaluru hyderabad pune mumbai delhi chennai"),
    **_cities("JP", "tokyo"),
    **_cities("AE", "dubai"),
    "newyork": ("New York", ("US",)),
    "nyc": ("New York", ("US",)),
    "sanfrancisco": ("San Francisco", ("US",)),
    "sf": ("San Francisco", ("US",)),
    "losangeles": ("Los Angeles", ("US",)),
    "saopaulo": ("São Paulo", ("BR",)),
}
# Names of a region in more than one country: read like a city (their countries count only
# when no other named country may be meant), but not listed as a city.
AMBIGUOUS = {"georgia": ("US", "GE")}

CURRENCY_OF = {
    **dict.fromkeys("AT BE HR CY EE FI FR DE GR IE IT LV LT LU MT NL PT SK SI ES".split(), "EUR"),
    **{"US": "USD", "GB": "GBP", "CA": "CAD", "CH": "CHF", "AU": "AUD", "NZ": "NZD"},
    **{"PL": "PLN", "SE": "SEK", "DK": "DKK", "NO": "NOK", "CZ": "CZK", "HU": "HUF"},
    **{"RO": "RON", "BG": "BGN", "IS": "ISK", "IN": "INR", "SG": "SGD", "JP": "JPY"},
    **{"BR": "BRL", "MX": "MXN", "IL": "ILS", "AE": "AED", "ZA": "ZAR", "HK": "HKD"},
}
