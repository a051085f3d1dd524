"""The wish reader's words beyond the scorer's vocabulary: spellings joined before
tokenizing, languages, job types, job nouns, tools, industries, employers and filler."""

from __future__ import annotations

import re

from jobping_dagster.llm.local.vocabulary import SPELLED

# Applied to the original text (case matters): "US" the country, not "us" the pronoun.
CASED = [
    (re.compile(r"\bU\.S\.(?:A\.)?(?!\w)|\bUSA?\b"), " usa "),
    (re.compile(r"\bLA\b"), " losangeles "),
]
# Applied to the lower-cased text before the scorer's own phrases (`vocabulary.normalize`).
_JOINS = [
    (r"\bthe us\b", "the usa"),
    (r"\bnew[\s-]?grad(?:uate)?s?\b|\bearly[\s-]career\b|\brecent grad(?:uate)?s?\b", "junior"),
    (r"\bci\s*/\s*cd\b", "cicd"),
    (r"\bbring[\s-]?up\b", "bringup"),
    (r"\bhands[\s-]on\b", " "),
    (r"\bnon[\s-]?profits?\b", "nonprofit"),
    (r"\bpart[\s-]?time\b", "parttime"),
    (r"\bfull[\s-]?time\b", "fulltime"),
    (r"\bsix[\s-]figures?\b", " sixfigures "),
    (
        r"\b(?:fully|only|exclusively|strictly|completely|entirely|purely|totally)[\s-]+remote\b"
        r"|(?<![\w.])100\s?%\s?remote\b"
        r"|\bremote[\s-]+only\b"
        r"|\bremote[\s-]+(?:jobs?|roles?|positions?|work|opportunities)[\s-]+only\b",
        " remoteonly ",
    ),
    (r"\bdo(?:n'?t| not) (?:like|enjoy)\b|\bdislike\b|\bhate\b", "avoid"),
    (r"\banything but\b|\bother than\b|\bexcept for\b", "except"),
    (r"\bneither\b", "no"),
    (r"\bmiddle east\b", "middleeast"),
    (r"\blatin america\b", "latam"),
    (r"\bnorth america\b", "northamerica"),
    (r"\bnew zealand\b", "newzealand"),
    (r"\bsouth africa\b", "southafrica"),
    (r"\bhong kong\b", "hongkong"),
    (r"\bczech republic\b", "czechia"),
    (r"\b(west|east) coast\b", r"\1coast"),
    (r"\bsao paulo\b|\bsão paulo\b", "saopaulo"),
    (r"\bwashington,? d\.?c\.?\b", "dc"),
    (
        r"\b(new|north|south|west|rhode) "
        r"(jersey|mexico|hampshire|carolina|dakota|virginia|island)\b",
        r"\1\2",
    ),
]
JOIN_PATTERNS = [(re.compile(pattern), replacement) for pattern, replacement in _JOINS]

# How to show a joined token back to the user.
DISPLAY = {
    **SPELLED,
    "cicd": "ci/cd",
    "bringup": "bring-up",
    "nonprofit": "non-profit",
    "parttime": "part-time",
    "fulltime": "full-time",
}


LANGUAGES = {
    "english": "en",
    "german": "de",
    "french": "fr",
    "spanish": "es",
    "italian": "it",
    "portuguese": "pt",
    "dutch": "nl",
    "polish": "pl",
    "swedish": "sv",
    "danish": "da",
    "norwegian": "no",
    "finnish": "fi",
    "czech": "cs",
    "greek": "el",
    "romanian": "ro",
    "hungarian": "hu",
    "japanese": "ja",
    "chinese": "zh",
    "mandarin": "zh",
    "cantonese": "zh",
    "korean": "ko",
    "russian": "ru",
    "ukrainian": "uk",
    "arabic": "ar",
    "hindi": "hi",
    "turkish": "tr",
    "hebrew": "he",
    "vietnamese": "vi",
    "thai": "th",
    "indonesian": "id",
}
LANGUAGE_HELPERS = {"speaking", "speaker", "fluent", "fluency", "native", "bilingual", "speak"}

JOB_TYPES = {
    "parttime": "part-time",
    "fulltime": "full-time",
    "contract": "contract",
    "contractor": "contract",
    "freelance": "freelance",
    "freelancer": "freelance",
    "freelancing": "freelance",
    "temporary": "temporary",
    "temp": "temporary",
    "seasonal": "seasonal",
    "permanent": "permanent",
}

# Canonical (see vocabulary.canonical) last words that make a phrase a role.
ROLE_HEADS = set(
    """engineer architect scientist analyst designer manager administrator admin assistant
    technician teacher tutor instructor coach trainer director clerk bookkeeper accountant
    auditor controller nurse therapist physician doctor pharmacist agent barber hairdresser
    stylist arborist gardener landscaper electrician plumber carpenter mechanic welder driver
    operator consultant specialist writer copywriter editor recruiter researcher officer
    representative rep coordinator associate executive supervisor tester annotator labeler
    lawyer attorney paralegal cashier chef cook bartender barista receptionist secretary
    planner strategist marketer advisor adviser counselor counsellor worker caregiver aide
    sre owner head president vp cto ceo cfo coo translator interpreter photographer artist
    animator producer journalist librarian pilot guard inspector surveyor estimator buyer
    scheduler dispatcher assembler machinist fabricator installer housekeeper cleaner
    janitor nanny baker butcher veterinarian dentist hygienist paramedic firefighter
    professor lecturer dean expert economist statistician mathematician physicist chemist
    biologist geologist modeler salesperson server waiter waitress courier packer picker
    loader laborer labourer apprentice paraprofessional midwife psychologist psychiatrist
    surgeon optometrist nutritionist dietitian phlebotomist sonographer radiographer
    technologist tech""".split()
)

# Tools and languages: shown as skills too when they qualify a role ("java engineer").
TECH = set(
    """java python javascript typescript go rust ruby php perl scala kotlin swift c cpp
    csharp dotnet r sql nosql postgres mysql mongodb redis react angular vue svelte node
    django flask fastapi spring rails laravel aws gcp azure terraform kubernetes docker
    ansible linux spark hadoop kafka airflow dbt snowflake databricks tableau excel
    salesforce sap servicenow workday ios android flutter unity unreal graphql html css
    figma rtos fpga verilog vhdl matlab pytorch tensorflow ml ai llm nlp cicd""".split()
)

# Canonical words of an industry someone may refuse ("no crypto", "avoid agencies").
INDUSTRIES = set(
    """crypto cryptocurrency blockchain web3 nft defi gambling betting casino igaming defense
    defence military weapon weapons tobacco vaping alcohol oil gas fossil mining petroleum
    adtech advertising fintech finance banking bank insurance consulting consultancy agency
    staffing outsourcing recruitment recruiting healthcare pharma pharmaceutical biotech
    government nonprofit ngo startup enterprise corporate retail ecommerce gaming media
    telecom automotive aerospace logistics hospitality estate""".split()
)
# Words that name a kind of work, never a company, even when capitalized ("No Sales").
WORK_DOMAINS = set("sales marketing support service customer office desk call".split())
KNOWN_COMPANIES = {
    "amazon": "Amazon",
    "google": "Google",
    "alphabet": "Alphabet",
    "meta": "Meta",
    "facebook": "Facebook",
    "microsoft": "Microsoft",
    "apple": "Apple",
    "netflix": "Netflix",
    "tesla": "Tesla",
    "uber": "Uber",
    "ibm": "IBM",
    "accenture": "Accenture",
    "deloitte": "Deloitte",
    "pwc": "PwC",
    "kpmg": "KPMG",
    "mckinsey": "McKinsey",
    "walmart": "Walmart",
    "palantir": "Palantir",
    "infosys": "Infosys",
    "tcs": "TCS",
    "wipro": "Wipro",
    "cognizant": "Cognizant",
    "capgemini": "Capgemini",
    "revature": "Revature",
}

# Words that carry no role, skill or place, beyond the scorer's stop words.
FILLER = set(
    """welcome welcomed fine ok okay happy willing able ready glad also really especially
    mostly mainly maybe perhaps either etc eg ie e g thing stuff field industry sector domain
    space region area city country location gig task duty require required requirement
    preferred bonus nice desired desirable ideal dream next step move change switch
    transition related similar focus focused oriented driven first have has had know think
    get getting find finding build building using use doing do done make making help helping
    currently live living located relocate relocation hybrid remote remoteonly onsite
    anything everything something whatever someone tc ote gross net brutto salary wage wages
    figure figures sixfigures earn earning hour hourly week weekly day daily""".split()
)

# Stop words that belong to a role when a job noun follows ("career coach").
PHRASE_STOP_WORDS = {"career", "team"}
KEYBOARD = ("qwerty", "asdf", "zxcv", "hjkl", "werty", "sdfgh", "dfghj", "fghjk", "xcvbn")
LIST_SEPARATORS = {",", "/", "or", "nor", "and"}
HARD_STOPS = {".", ";", ":", "!", "?", "(", ")", "\n"}
HOURLY = re.compile(
    r"[$€£]?\s?\d+(?:[.,]\d+)?\s?k?\s?(?:[$€£]|usd|eur|gbp|dollars?|euros?|pounds?)?\s?"
    r"(?:/|per|an?)\s?(?:h|hr|hour)\b"
)
