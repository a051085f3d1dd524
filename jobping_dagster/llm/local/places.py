"""Where places are, for the keyword scorer: regions, the names and codes inside them, and
whether a posting's location lies in a wished place."""

from __future__ import annotations

# Where places are: region -> names and codes that fall inside it. Names can be wished in a
# prompt; the short codes only count inside a posting's location ("Berlin, BE, DE"), because
# in a prompt "at", "it" or "de" are ordinary words.
_REGIONS: dict[str, tuple[set[str], set[str]]] = {
    "europe": (
        set(
            """europe european eu emea germany deutschland berlin munich hamburg frankfurt
            cologne stuttgart france paris lyon toulouse spain madrid barcelona valencia
            netherlands holland amsterdam rotterdam utrecht eindhoven belgium brussels antwerp
            ireland dublin cork portugal lisbon porto italy milan rome turin poland warsaw
            krakow wroclaw gdansk sweden stockholm gothenburg malmo denmark copenhagen aarhus
            finland helsinki austria vienna switzerland zurich geneva basel czechia czech
            prague brno greece athens romania bucharest cluj hungary budapest estonia tallinn
            latvia riga lithuania vilnius luxembourg norway oslo croatia zagreb slovenia
            ljubljana slovakia bratislava bulgaria sofia cyprus malta uk unitedkingdom britain
            england scotland wales london manchester edinburgh bristol cambridge oxford
            glasgow leeds birmingham""".split()
        ),
        set("de fr es nl be ie pt it pl se dk fi at ch cz gr ro hu ee lv lt lu no gb".split()),
    ),
    "uk": (
        set(
            """uk unitedkingdom britain england scotland wales london manchester edinburgh
            bristol cambridge oxford glasgow leeds birmingham""".split()
        ),
        {"gb"},
    ),
    "us": (
        set(
            """us usa america unitedstates newyork nyc sanfrancisco sf seattle austin boston
            chicago losangeles denver atlanta miami dallas houston portland philadelphia
            washington""".split()
        ),
        set("ny ca tx wa ma il co ga fl nc va or pa nj az mn ut dc".split()),
    ),
    "canada": ({"canada", "toronto", "vancouver", "montreal", "ottawa", "calgary"}, {"on", "bc"}),
}
REGION_ALIASES = {
    "eu": "europe",
    "european": "europe",
    "emea": "europe",
    "europe": "europe",
    "uk": "uk",
    "unitedkingdom": "uk",
    "britain": "uk",
    "us": "us",
    "usa": "us",
    "america": "us",
    "unitedstates": "us",
    "canada": "canada",
}
PLACE_NAMES = set(REGION_ALIASES) | {name for names, _ in _REGIONS.values() for name in names}


# Words in a location field that say how, not where.
NOT_PLACES = {"remote", "hybrid", "onsite", "anywhere", "worldwide", "global"}


def in_place(place: str, location_terms: set[str]) -> bool:
    """Whether a posting's location terms lie in a wished place or region."""
    region = _REGIONS.get(place)
    if region is None:
        return place in location_terms
    names, codes = region
    aliases = {alias for alias, target in REGION_ALIASES.items() if target == place}
    return bool(location_terms & (names | codes | aliases))
