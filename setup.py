from setuptools import find_packages, setup

setup(
    name="jobping_dagster",
    version="0.1.0",
    description="JobPing: daily job scraping, company research, AI matching and alerts on Dagster",
    python_requires=">=3.11,<3.12",
    packages=find_packages(exclude=["jobping_dagster_tests", "jobping_dagster_tests.*"]),
    package_data={
        "jobping_dagster": [
            "postings/sample_jobs.json",
            "users/sample_users.json",
            "api/static/*",  # the web page (index.html, CSS, JS modules)
        ]
    },
    install_requires=[
        "dagster==1.13.27",
        "dagster-webserver==1.13.27",
        "dagster-postgres==0.29.27",
        "dagster-aws==0.29.27",
        "python-jobspy==1.4.1",
        "pandas==3.1.1",
        "sqlalchemy==2.1.9",
        "alembic==1.20.1",
        "psycopg2-binary==2.9.13",
        "openai==3.54.0",
        "scikit-learn==1.9.1",
        "pydantic>=2.10,<3",
        "pydantic-settings==2.16.3",  # the typed Settings model read from JOBPING_* variables
        "requests>=2.32,<3",
        "beautifulsoup4>=4.12,<5",  # plain text out of markup in postings
        "markdownify==1.2.3",  # HTML descriptions to markdown, as jobspy converts its own
        "ftfy==6.3.1",  # repairs mojibake in scraped text
        "tabulate==0.10.0",  # pandas.DataFrame.to_markdown for metadata tables
        "click>=8.1,<9",  # the `jobping` command line (dagster requires it too)
        "fastapi==0.165.0",  # the job seekers' API and web page (`jobping serve api`)
        "uvicorn==0.54.0",  # serves it (dagster-webserver runs on it too)
        "argon2-cffi==25.1.0",  # password hashes (argon2id)
        "pyjwt==2.15.1",  # the API's signed tokens
    ],
    extras_require={
        "dev": [
            "pytest==9.2.0",
            "pytest-xdist==3.8.0",  # make test runs the independent tests on every core
            "ruff==0.17.6",
            "moto==5.2.5",
            "httpx==0.29.0",  # FastAPI's test client
            "schemathesis==4.32.5",  # fuzzes the API from its OpenAPI schema
            "playwright==1.65.2",  # drives Debian's chromium in the web page test
            "aiosmtpd==1.4.6",  # a real SMTP server on 127.0.0.1 in the email tests
        ],
    },
    entry_points={"console_scripts": ["jobping=jobping_dagster.cli:main"]},
)
