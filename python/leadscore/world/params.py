"""Fixed calendar, vocabularies and parameters of the synthetic B2B world.

Every number that shapes the world lives here so that ``docs/synthetic_world.md`` can
document it in one place. Days are integers counted from 2024-01-01 (day 0); timestamps
are seconds since 2024-01-01 00:00:00.
"""

from __future__ import annotations

import datetime as dt

GENERATOR_VERSION = "1.0.0"

# ---------------------------------------------------------------- calendar
START_DATE = dt.date(2024, 1, 1)
END_DATE = dt.date(2025, 12, 31)
EXTRACTED_AT = "2026-01-01 00:00:00"
N_DAYS = (END_DATE - START_DATE).days + 1  # 730 days of history written to the files
HORIZON_DAYS = 90  # the label window of the ground truth
N_SIM_DAYS = N_DAYS + HORIZON_DAYS  # the latent world runs 90 days past the export
SECONDS_PER_DAY = 86_400
FIRST_AS_OF_DAY = 7  # 2024-01-08, the first Monday after day 0 (2024-01-01 is a Monday)
LAST_AS_OF_DAY = 728  # 2025-12-29
ACCOUNT_CREATED_FROM_DAY = -2922  # accounts entered the CRM between 2016-01-01 and 2023-12-31

# ---------------------------------------------------------------- scale
LEADS_PER_ACCOUNT = 8.0
NO_ACCOUNT_SHARE = 0.15
LEAD_CHUNK = 16_384  # leads per vectorized block in the activity pass
ACCOUNT_CHUNK = 16_384  # accounts per vectorized block when computing window sums

# ---------------------------------------------------------------- accounts
INDUSTRIES = (
    "Software",
    "Financial Services",
    "Healthcare",
    "Manufacturing",
    "Retail",
    "Education",
    "Media",
    "Government",
    "Telecommunications",
    "Professional Services",
)
INDUSTRY_WEIGHTS = (0.16, 0.12, 0.11, 0.13, 0.10, 0.07, 0.06, 0.05, 0.06, 0.14)
INDUSTRY_FIT = (0.8, 0.6, 0.0, -0.1, -0.3, -0.7, 0.0, -0.8, 0.4, 0.2)
REVENUE_PER_EMPLOYEE = (
    250_000,
    400_000,
    180_000,
    300_000,
    200_000,
    90_000,
    220_000,
    150_000,
    350_000,
    160_000,
)
LOG10_EMPLOYEES_MEAN = 2.4
LOG10_EMPLOYEES_SD = 0.75
LOG10_EMPLOYEES_RANGE = (0.7, 5.5)
# fit by employee band, upper bounds exclusive: 1-49, 50-199, 200-999, 1000-4999, 5000+
SIZE_BAND_EDGES = (50, 200, 1000, 5000)
SIZE_BAND_FIT = (-0.6, -0.1, 0.3, 0.4, 0.15)
REGIONS = ("NA", "EMEA", "APAC", "LATAM")
REGION_WEIGHTS = (0.45, 0.30, 0.15, 0.10)
REGION_FIT = (0.2, 0.1, -0.1, -0.2)
FIT_NOISE_SD = 0.6
COUNTRIES = {
    "NA": (("United States", ".com", 0.85), ("Canada", ".ca", 0.15)),
    "EMEA": (
        ("United Kingdom", ".co.uk", 0.28),
        ("Germany", ".de", 0.20),
        ("France", ".fr", 0.14),
        ("Netherlands", ".nl", 0.09),
        ("Sweden", ".se", 0.06),
        ("Spain", ".es", 0.07),
        ("Italy", ".it", 0.06),
        ("Israel", ".co.il", 0.04),
        ("United Arab Emirates", ".ae", 0.03),
        ("South Africa", ".co.za", 0.03),
    ),
    "APAC": (
        ("Australia", ".com.au", 0.28),
        ("Japan", ".co.jp", 0.20),
        ("Singapore", ".sg", 0.15),
        ("India", ".in", 0.22),
        ("South Korea", ".co.kr", 0.08),
        ("New Zealand", ".co.nz", 0.07),
    ),
    "LATAM": (
        ("Brazil", ".com.br", 0.40),
        ("Mexico", ".com.mx", 0.28),
        ("Argentina", ".com.ar", 0.12),
        ("Chile", ".cl", 0.10),
        ("Colombia", ".co", 0.10),
    ),
}
COUNTRY_TLD_SHARE = 0.4  # share of non-US accounts on their country TLD (others use .com)
NAME_STEMS_A = (
    "North", "Blue", "Silver", "Red", "Green", "Iron", "Stone", "Bright", "Clear", "High",
    "Deep", "Star", "Sun", "Oak", "Pine", "Maple", "Cedar", "River", "Lake", "Summit",
    "Peak", "Harbor", "Bay", "Crest", "Ridge", "Falcon", "Eagle", "Hawk", "Fox", "Wolf",
    "Bear", "Lion", "Tiger", "Nova", "Astra", "Vertex", "Quantum", "Pixel", "Cloud", "Data",
    "Signal", "Vector", "Atlas", "Orbit", "Prism", "Zen", "Core", "Prime", "Apex", "Vista",
)  # fmt: skip
NAME_STEMS_B = (
    "wind", "stone", "field", "bridge", "gate", "point", "line", "wave", "works", "forge",
    "path", "way", "spark", "light", "shore", "brook", "wood", "view", "mark", "scale",
    "stack", "grid", "loop", "sight", "bit", "leaf", "port", "hub", "craft", "dale",
)  # fmt: skip
INDUSTRY_NOUNS = (
    ("Software", "Labs", "Technologies", "Systems", "Cloud", "AI", "Data"),
    ("Capital", "Financial", "Bank", "Insurance", "Wealth", "Payments"),
    ("Health", "Medical", "Care", "Therapeutics", "Clinics", "Biosciences"),
    ("Manufacturing", "Industries", "Works", "Robotics", "Materials", "Machinery"),
    ("Retail", "Stores", "Brands", "Goods", "Outfitters", "Market"),
    ("Learning", "Academy", "University", "Schools", "Education"),
    ("Media", "Studios", "Publishing", "Entertainment", "Broadcasting"),
    ("Public Services", "Transit Authority", "County", "Housing Agency", "Water Authority"),
    ("Telecom", "Networks", "Communications", "Wireless", "Broadband", "Mobile"),
    ("Consulting", "Advisors", "Partners", "Associates", "Legal", "Group"),
)
# legal suffixes by region; the ones with a comma make names that need CSV quoting
LEGAL_SUFFIXES = {
    "NA": ("", " Inc.", ", Inc.", " LLC", ", LLC", " Corp."),
    "EMEA": ("", " Ltd", ", Ltd.", " GmbH", " plc", " AG", " B.V.", " SA"),
    "APAC": ("", " Pty Ltd", " Pte. Ltd.", " K.K.", " Ltd", ", Ltd."),
    "LATAM": ("", " S.A.", " S.A. de C.V.", " Ltda.", " SpA"),
}

# ---------------------------------------------------------------- exogenous signals
FUNDING_RATE_PER_YEAR = (0.14, 0.10, 0.06, 0.03, 0.02)  # by employee band
FUNDING_ROUNDS = ("Seed", "Series A", "Series B", "Series C", "Series D")
FUNDING_ROUND_BY_BAND = ((0, 1), (1, 2), (2, 3), (3, 4), (3, 4))  # allowed round indexes
FUNDING_MEDIAN_USD = (2_000_000, 10_000_000, 30_000_000, 60_000_000, 120_000_000)
HIRING_RATE_PER_YEAR = 0.45
TECH_INSTALLS_MEAN = 1.2
TECHNOLOGIES = (
    "Salesforce", "HubSpot", "Snowflake", "Marketo", "Segment", "dbt",
    "Outreach", "Gong", "ZoomInfo", "Databricks", "Tableau", "Pardot",
)  # fmt: skip
COMPLEMENTARY_TECH = 6  # the first six are complementary; high-fit accounts favour them
INTENT_TOPICS = (
    "lead scoring",
    "marketing automation",
    "crm",
    "sales intelligence",
    "data warehouse",
)
INTENT_LEAD_DAYS = 45  # intent surges start this many days before a buying cycle
INTENT_CYCLE_EVERY_DAYS = 14.0  # one surge per this many days from lead-in to cycle end
INTENT_BACKGROUND_EVERY_DAYS = 200.0
INTENT_PRIMARY_TOPIC_SHARE = 0.7
INTENT_HALF_LIFE_DAYS = 14.0  # decay of an intent score in the hazard

# ---------------------------------------------------------------- buying cycles
CYCLE_BASE_DAILY = 0.0014  # start hazard at fit 0 with no trigger
CYCLE_FIT_COEF = 0.9
CYCLE_FUNDING_BOOST = 2.5  # added multiplier within FUNDING_WINDOW days after a round
CYCLE_HIRING_BOOST = 1.2
FUNDING_WINDOW_DAYS = 42
HIRING_WINDOW_DAYS = 28
CYCLE_MIN_DAYS = 30
CYCLE_MAX_DAYS = 150
CYCLE_COOLDOWN_DAYS = 45
CYCLE_INITIAL_SHARE = 0.10  # accounts already in market on 2024-01-01 (scaled by fit)
MAX_CYCLES = 8

# ---------------------------------------------------------------- leads
ROLES = (
    "decision_maker",
    "champion",
    "influencer",
    "practitioner",
    "executive_sponsor",
    "procurement",
)
NO_ROLE = len(ROLES)  # role code of leads without an account ("none")
ROLE_WEIGHTS = (0.12, 0.16, 0.22, 0.30, 0.09, 0.11)
ROLE_ENGAGE_PROB = (0.50, 0.65, 0.45, 0.40, 0.30, 0.35)
ROLE_ENGAGE_OFFSET = ((0.1, 0.6), (0.0, 0.5), (0.0, 0.5), (0.0, 0.5), (0.2, 0.8), (0.5, 0.9))
ENGAGE_BOOST_IF_CREATED_IN_CYCLE = 1.5
ROLE_OPP_PRIORITY = (3.0, 4.0, 2.0, 1.0, 2.5, 1.5)  # which lead an opportunity is credited to
LEAD_CREATION_IN_MARKET_BOOST = 4.0
DEPARTMENTS = (
    "Engineering",
    "IT",
    "Marketing",
    "Sales",
    "Data",
    "Operations",
    "Finance",
    "Revenue Operations",
)
DEPARTMENT_WEIGHTS = (0.16, 0.14, 0.18, 0.14, 0.12, 0.10, 0.08, 0.08)
EXECUTIVE_TITLES = (
    "Chief Executive Officer", "CEO", "Chief Technology Officer", "CTO",
    "Chief Information Officer", "CIO", "Chief Marketing Officer", "CMO",
    "Chief Revenue Officer", "Chief Operating Officer", "COO", "Chief Financial Officer",
    "CFO", "Chief Data Officer",
)  # fmt: skip
DECISION_MAKER_TEMPLATES = ("VP of {D}", "Vice President, {D}", "SVP {D}")
CHAMPION_TEMPLATES = ("Director of {D}", "Head of {D}", "Senior Director, {D}")
INFLUENCER_TEMPLATES = ("{D} Manager", "Senior {D} Manager", "{D} Team Lead")
PRACTITIONER_TITLES = (
    "Software Engineer", "Data Engineer", "Data Analyst", "Marketing Specialist",
    "Marketing Coordinator", "Sales Operations Analyst", "IT Administrator",
    "Business Analyst", "Financial Analyst", "Operations Analyst",
    "Sales Development Representative",
)  # fmt: skip
PROCUREMENT_TITLES = (
    "Procurement Manager",
    "Purchasing Specialist",
    "Vendor Manager",
    "Strategic Sourcing Lead",
    "Director of Procurement",
)
NO_ACCOUNT_EXTRA_TITLES = ("Student", "Consultant", "Founder", "Owner", "Freelancer", "", "n/a")
NO_ACCOUNT_TITLE_MIX = (0.45, 0.25, 0.30)  # practitioner, influencer, extra titles
TITLE_NOISE_SHARE = 0.03
FREE_MAIL_DOMAINS = ("gmail.com", "yahoo.com", "outlook.com", "hotmail.com")
FREE_MAIL_WEIGHTS = (0.55, 0.15, 0.18, 0.12)
FIRST_NAMES = (
    "James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "David",
    "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas",
    "Sarah", "Charles", "Karen", "Daniel", "Lisa", "Matthew", "Nancy", "Anthony", "Sandra",
    "Mark", "Ashley", "Steven", "Emily", "Andrew", "Michelle", "Joshua", "Amanda", "Kevin",
    "Melissa", "Brian", "Stephanie", "Ryan", "Rebecca", "Jacob", "Laura", "Nicholas", "Emma",
    "Eric", "Olivia", "Jonathan", "Sophia", "Samuel", "Chloe", "Lucas", "Mia", "Noah", "Hannah",
    "Liam", "Anna", "Ethan", "Julia", "Mateo", "Camila", "Lukas", "Lea", "Hans", "Sofia",
    "Pierre", "Camille", "Luca", "Giulia", "Sven", "Ingrid", "Raj", "Priya", "Arjun", "Ananya",
    "Wei", "Mei", "Hiroshi", "Yuki", "Min-jun", "Ji-woo", "Ahmed", "Fatima", "Omar", "Leila",
    "Diego", "Valentina", "Joao", "Ana", "Kwame", "Amara", "Sean", "Aoife", "Noa", "Yosef",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez",
    "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright",
    "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall",
    "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "Muller", "Schmidt", "Schneider",
    "Fischer", "Weber", "Dubois", "Moreau", "Laurent", "Rossi", "Russo", "Bianchi", "Jansen",
    "de Vries", "Johansson", "Andersson", "Patel", "Sharma", "Singh", "Kumar", "Gupta",
    "Wang", "Li", "Zhang", "Chen", "Liu", "Tanaka", "Suzuki", "Sato", "Kim", "Park", "Choi",
    "O'Brien", "O'Connor", "Murphy", "Kelly", "Silva", "Santos", "Oliveira", "Costa", "Cohen",
    "Levi", "Mensah", "Okafor", "Haddad", "Khan", "Ali", "Novak", "Kowalski", "Nowak", "Horvat",
)  # fmt: skip
LEAD_SOURCES = (
    "Organic Search",
    "Paid Search",
    "Paid Social",
    "Webinar",
    "Trade Show",
    "Referral",
    "Content Syndication",
    "Outbound",
    "Partner",
    "Website Form",
)
# lead source weights by role (rows: ROLES then "none")
LEAD_SOURCE_WEIGHTS = (
    (0.10, 0.10, 0.05, 0.10, 0.15, 0.12, 0.05, 0.18, 0.08, 0.07),
    (0.12, 0.12, 0.06, 0.14, 0.10, 0.10, 0.08, 0.12, 0.06, 0.10),
    (0.15, 0.12, 0.08, 0.14, 0.06, 0.06, 0.12, 0.10, 0.05, 0.12),
    (0.22, 0.10, 0.10, 0.12, 0.03, 0.04, 0.16, 0.05, 0.03, 0.15),
    (0.05, 0.04, 0.03, 0.06, 0.20, 0.22, 0.02, 0.25, 0.10, 0.03),
    (0.06, 0.06, 0.02, 0.04, 0.10, 0.10, 0.04, 0.30, 0.20, 0.08),
    (0.30, 0.15, 0.18, 0.08, 0.02, 0.03, 0.08, 0.00, 0.01, 0.15),
)

# ---------------------------------------------------------------- activities
ACTIVITY_TYPES = (
    "web_visit",
    "email_send",
    "email_open",
    "email_click",
    "content_download",
    "webinar_registration",
    "webinar_attendance",
    "form_fill",
    "unsubscribe",
    "email_bounce",
)
PAGE_CATEGORIES = ("pricing", "demo", "contact", "product", "docs", "blog", "careers", "home")
# interest events: the 8 page categories (web_visit), then content_download,
# webinar_registration and form_fill
INTEREST_EVENT_TYPES = (0,) * 8 + (4, 5, 7)
INTEREST_EVENT_PAGES = (0, 1, 2, 3, 4, 5, 6, 7, -1, -1, -1)
# mix of interest events by role (rows: ROLES then "none") and phase
# (0 out of market, 1 in market but not engaged, 2 engaged early, 3 engaged late)
_QUIET = {
    "decision_maker": (1.0, 0.3, 0.3, 3.0, 0.5, 2.0, 0.3, 4.0, 1.0, 0.6, 0.2),
    "champion": (1.0, 0.5, 0.3, 4.0, 1.5, 3.0, 0.3, 3.0, 1.5, 1.0, 0.3),
    "influencer": (0.6, 0.3, 0.2, 4.0, 2.5, 4.0, 0.5, 3.0, 1.5, 1.0, 0.3),
    "practitioner": (0.3, 0.2, 0.1, 3.0, 7.0, 6.0, 1.0, 3.0, 1.5, 1.0, 0.2),
    "executive_sponsor": (0.5, 0.1, 0.2, 2.0, 0.1, 1.5, 0.2, 5.0, 0.5, 0.3, 0.1),
    "procurement": (1.0, 0.1, 0.5, 2.0, 0.2, 1.0, 0.3, 4.0, 0.3, 0.2, 0.3),
    "none": (0.3, 0.2, 0.1, 2.0, 3.0, 6.0, 3.0, 4.0, 1.5, 0.8, 0.3),
}
_ENGAGED = {
    "decision_maker": (4.0, 2.5, 2.0, 4.0, 0.5, 1.0, 0.1, 2.0, 1.5, 1.0, 1.0),
    "champion": (4.0, 3.5, 2.0, 5.0, 2.0, 1.5, 0.1, 2.0, 2.5, 2.0, 1.5),
    "influencer": (2.0, 1.5, 0.8, 5.0, 3.0, 2.0, 0.2, 2.0, 2.5, 1.5, 0.8),
    "practitioner": (0.8, 1.0, 0.3, 4.0, 8.0, 3.0, 0.3, 2.0, 2.0, 1.5, 0.5),
    "executive_sponsor": (2.0, 0.5, 1.0, 2.0, 0.1, 0.5, 0.0, 3.0, 0.8, 0.3, 0.5),
    "procurement": (1.5, 0.2, 1.0, 1.5, 0.2, 0.3, 0.1, 2.0, 0.3, 0.1, 0.5),
    "none": _QUIET["none"],
}
_LATE = {
    **_ENGAGED,
    "decision_maker": (5.0, 2.0, 3.0, 3.0, 0.5, 0.5, 0.1, 2.0, 1.0, 0.5, 1.5),
    "procurement": (6.0, 0.5, 4.0, 1.5, 0.2, 0.2, 0.0, 1.5, 0.3, 0.1, 1.5),
}
_IN_MARKET = {
    role: tuple(0.7 * q + 0.3 * e for q, e in zip(_QUIET[role], _ENGAGED[role], strict=True))
    for role in _QUIET
}
INTEREST_MIX = tuple(
    (_QUIET[role], _IN_MARKET[role], _ENGAGED[role], _LATE[role]) for role in (*ROLES, "none")
)
ROLE_ACTIVITY_MULT = (0.8, 1.3, 1.0, 1.2, 0.35, 0.6, 0.9)  # ROLES then "none"
LEAD_PROPENSITY_SD = 0.6  # lognormal sd of a lead's personal activity level (mean 1)
INTEREST_DAILY = 0.019  # interest events per day for a quiet lead of propensity 1
INTEREST_IN_MARKET_MULT = 2.0  # added multiplier while the account is in market
INTEREST_ENGAGED_MULT = 5.0  # further added multiplier while the lead is engaged
SEND_DAILY = 0.03  # marketing email sends per day to every live lead
SEND_AFTER_UNSUBSCRIBE = 0.1
OPEN_BASE = 0.18
OPEN_IN_MARKET = 0.12
OPEN_ENGAGED = 0.25
OPEN_AFTER_UNSUBSCRIBE = 0.2
OPEN_PROPENSITY_SD = 0.4
CLICK_BASE = 0.15
CLICK_ENGAGED = 0.25
ATTEND_BASE = 0.40
ATTEND_ENGAGED = 0.20
UNSUBSCRIBE_PROB = (0.09, 0.04)  # leads with propensity below / above 1
BAD_EMAIL_SHARE = 0.03
HOUR_WEIGHTS = (
    0.2, 0.1, 0.1, 0.1, 0.1, 0.2, 0.5, 1.5, 3.0, 4.0, 4.0, 3.5,
    3.0, 3.5, 3.5, 3.0, 2.5, 1.8, 1.2, 1.0, 0.9, 0.7, 0.5, 0.3,
)  # fmt: skip
SEND_HOUR_WEIGHTS = (0,) * 7 + (2.0, 4.0, 4.0, 3.0, 1.0, 0.5, 1.0, 1.5, 1.0) + (0,) * 8

# ---------------------------------------------------------------- touchpoints
RAW_CHANNELS = (
    "google / cpc",
    "bing / cpc",
    "linkedin / paid_social",
    "facebook / paid_social",
    "newsletter / email",
    "nurture / email",
    "google / organic",
    "bing / organic",
    "webinar",
    "trade_show",
    "event",
    "(direct) / (none)",
    "partner / referral",
    "g2 / referral",
    "syndication / display",
    "sdr / outbound",
)
CHANNELS = (
    "paid_search",
    "paid_social",
    "email",
    "organic_search",
    "webinar",
    "event",
    "direct",
    "referral",
    "content_syndication",
    "outbound",
)
RAW_TO_CHANNEL = (0, 0, 1, 1, 2, 2, 3, 3, 4, 5, 5, 6, 7, 7, 8, 9)
CHANNEL_EFFECTS = (0.4, 0.05, 0.2, 0.3, 0.7, 0.9, 0.25, 0.6, 0.1, 0.5)
CHANNEL_DESCRIPTIONS = (
    "Paid search ads (google / cpc, bing / cpc)",
    "Paid social ads (linkedin / paid_social, facebook / paid_social)",
    "Marketing email (newsletter / email, nurture / email)",
    "Organic search (google / organic, bing / organic)",
    "Webinars",
    "Trade shows and field events (trade_show, event)",
    "Direct traffic ((direct) / (none))",
    "Partner and review-site referrals (partner / referral, g2 / referral)",
    "Content syndication (syndication / display)",
    "SDR outbound (sdr / outbound)",
)
TOUCH_EFFECT_DAYS = 30
RAW_CHANNEL_WEIGHTS = (10, 2, 8, 3, 12, 10, 12, 2, 6, 2, 3, 10, 3, 2, 5, 8)
# multipliers on RAW_CHANNEL_WEIGHTS by mapped channel while the account is in market,
# by role, and for leads without an account (the confounding a naive attribution sees)
CHANNEL_IN_MARKET_MULT = (1.5, 1.0, 1.0, 1.0, 1.5, 1.5, 1.2, 1.3, 1.0, 2.0)
CHANNEL_ROLE_MULT = (
    (1.0, 1.0, 1.0, 1.0, 1.0, 1.5, 1.0, 1.3, 0.8, 1.5),
    (1.0, 1.0, 1.0, 1.0, 1.3, 1.2, 1.0, 1.0, 1.0, 1.2),
    (1.0, 1.0, 1.0, 1.0, 1.2, 1.0, 1.0, 1.0, 1.2, 1.0),
    (1.0, 1.2, 1.0, 1.5, 1.5, 0.5, 1.0, 1.0, 1.2, 0.5),
    (0.5, 0.8, 0.7, 0.5, 0.5, 2.0, 1.0, 1.5, 0.3, 2.0),
    (0.5, 0.3, 0.7, 0.5, 0.3, 1.0, 1.0, 1.0, 0.3, 1.5),
    (1.0, 2.0, 1.0, 2.0, 1.0, 0.5, 1.2, 0.5, 1.0, 0.0),
)
TOUCH_DAILY = 0.0102  # touches per day for a quiet live lead of propensity 1
TOUCH_IN_MARKET_MULT = 1.5
TOUCH_ENGAGED_MULT = 1.0
TOUCH_PROPENSITY_SD = 0.5
# campaign name templates by raw channel; {y} year, {q} quarter, {m} month name
CAMPAIGN_TEMPLATES = (
    ("{y}-Q{q} Brand Search", "{y}-Q{q} Competitor Keywords", "{y}-Q{q} Lead Scoring Keywords"),
    ("{y}-Q{q} Brand Search", "{y}-Q{q} Generic Keywords"),
    ("{y}-Q{q} LinkedIn ABM", "{y}-Q{q} LinkedIn Thought Leadership"),
    ("{y}-Q{q} Retargeting",),
    ("{y}-{mm} Monthly Newsletter",),
    ("Nurture - Getting Started", "Nurture - Data Teams", "Nurture - RevOps Playbook"),
    ("(organic)",),
    ("(organic)",),
    ("{y}-Q{q} Webinar Series", "{y}-Q{q} Product Demo Webinar"),
    ("{y} Revenue Summit", "{y} Data Council Booth"),
    ("{y}-Q{q} Field Dinner", "{y}-Q{q} Customer Roadshow"),
    ("(none)",),
    ("{y} Partner Referral Program",),
    ("G2 Reviews",),
    ("{y}-Q{q} Whitepaper Syndication", "{y}-Q{q} ROI Guide Syndication"),
    ("{y}-Q{q} SDR Outbound", "{y}-Q{q} Enterprise Sequence"),
)

# ---------------------------------------------------------------- opportunities
HAZARD_FIT_COEF = 0.5
HAZARD_IN_MARKET_COEF = 1.2
HAZARD_ROLE_COEF = 0.35  # per distinct engaged committee role
HAZARD_INTENT_COEF = 0.9  # times the decayed intent score / 100
TARGET_CONVERSION_RATE = 0.09  # lead-weighted 90-day rate the intercept is calibrated to
OPP_MIN_DAYS = 30
OPP_MAX_DAYS = 150
WIN_INTERCEPT = -0.6
WIN_FIT_COEF = 0.9
AMOUNT_BASE_USD = 15_000
AMOUNT_SIZE_EXPONENT = 0.4
AMOUNT_SD = 0.5
OPEN_STAGES = ("Prospecting", "Qualification", "Proposal", "Negotiation")

# ---------------------------------------------------------------- bad rows
BAD_ROW_RATE = 0.002
BAD_ROW_MIN = 2
BAD_TIMESTAMPS = (
    "2025-13-45 25:00:00",
    "yesterday",
    "31/02/2025",
    "2025-02-30 10:00:00",
    "2024-06-31 08:15:00",
)
BAD_NUMBERS = ("12.5.1", "$12k", "1,200", "12 500", "approx. 300")
FUTURE_YEAR = 2031
UNTERMINATED_QUOTE_FIELD = '"Whitepaper: ROI of lead scoring'
RAGGED_EXTRA_FIELD = "unexpected"
