"""Configuration read from the environment (see README: DATABASE_URL, SECRET_KEY, HOST, PORT)."""

import os
import secrets
from pathlib import Path

from flask_appbuilder.const import AUTH_DB

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("INSTANCE_DIR", BASE_DIR / "instance"))


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once and kept under instance/."""
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    path = INSTANCE_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{INSTANCE_DIR / 'sales.db'}"


class Config:
    APP_NAME = "销售管理系统"
    APP_ICON = ""
    APP_THEME = ""  # the default theme: 16 of FAB's 18 themes import Google Fonts
    FAB_BASE_TEMPLATE = "base.html"
    FAB_INDEX_VIEW = "app.core.home.HomeView"
    FAB_SECURITY_MANAGER_CLASS = "app.core.security.SalesSecurityManager"
    # The schema comes from migrations only; permissions and roles are synced by `flask seed`.
    FAB_CREATE_DB = False
    FAB_UPDATE_PERMS = False
    FAB_ADD_SECURITY_API = False
    FAB_API_SWAGGER_UI = True
    FAB_API_MAX_PAGE_SIZE = 100
    AUTH_TYPE = AUTH_DB
    AUTH_ROLE_ADMIN = "Admin"
    AUTH_ROLE_PUBLIC = "Public"
    AUTH_USER_REGISTRATION = False
    AUTH_RATE_LIMITED = True
    RATELIMIT_ENABLED = True
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")

    BABEL_DEFAULT_LOCALE = "zh"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "translations")
    LANGUAGES = {
        "zh": {"flag": "cn", "name": "中文"},
        "en": {"flag": "gb", "name": "English"},
    }

    SQLALCHEMY_TRACK_MODIFICATIONS = False
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = None
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    # Login lockout and password policy (app/core/hardening.py): after LOGIN_MAX_FAILURES failed logins of one
    # account, each within LOGIN_LOCKOUT_MINUTES of the previous, it is refused for LOGIN_LOCKOUT_MINUTES
    LOGIN_MAX_FAILURES = int(os.environ.get("LOGIN_MAX_FAILURES", "5"))
    LOGIN_LOCKOUT_MINUTES = int(os.environ.get("LOGIN_LOCKOUT_MINUTES", "15"))
    PASSWORD_MIN_LENGTH = 10
    FAB_PASSWORD_COMPLEXITY_ENABLED = True  # the validator itself is set by hardening.install()

    # A list page counts matching records up to this many and then shows "10,000+" (0: always exact). An exact
    # count reads every matching index entry: 12 ms of a 70 ms page for a month of a million orders on PostgreSQL.
    LIST_COUNT_LIMIT = int(os.environ.get("LIST_COUNT_LIMIT", "10000"))

    # Excel import guards: rows per file and uncompressed size of the xlsx archive.
    EXCEL_IMPORT_MAX_ROWS = int(os.environ.get("EXCEL_IMPORT_MAX_ROWS", "200000"))
    EXCEL_IMPORT_MAX_BYTES = 50 * 1024 * 1024
    EXCEL_IMPORT_MAX_UNZIPPED_BYTES = 500 * 1024 * 1024
    MAX_CONTENT_LENGTH = 60 * 1024 * 1024

    # Number of reverse proxies (nginx) in front of the app whose X-Forwarded-* headers are trusted (README)
    PROXY_FIX_X_FOR = int(os.environ.get("PROXY_FIX_X_FOR", "0"))

    # 数据备份: where `flask backup create` and the backup page write their files (README "数据备份 / Backup")
    BACKUP_DIR = os.environ.get("BACKUP_DIR") or str(INSTANCE_DIR / "backups")

    # CRM rules (DOMAIN.md "Customers"), overridable from the environment
    CRM_HOLDING_LIMIT = int(os.environ.get("CRM_HOLDING_LIMIT", "200"))
    CRM_CHURN_LOW_LEVELS = tuple(os.environ.get("CRM_CHURN_LOW_LEVELS", "D,E").split(","))
    CRM_CHURN_LOW_LEVEL_DAYS = int(os.environ.get("CRM_CHURN_LOW_LEVEL_DAYS", "30"))
    CRM_CHURN_HIGH_LEVEL_DAYS = int(os.environ.get("CRM_CHURN_HIGH_LEVEL_DAYS", "90"))
    CRM_CHURN_END_CUSTOMER_DAYS = int(os.environ.get("CRM_CHURN_END_CUSTOMER_DAYS", "180"))
    CRM_UPGRADE_DEALS = int(os.environ.get("CRM_UPGRADE_DEALS", "3"))
    CRM_REMINDER_DAYS = int(os.environ.get("CRM_REMINDER_DAYS", "3"))

    # ABC分类 of end customers (DOMAIN.md "Customers", run by `flask classify`): ranked by money received in the last
    # 12 months, A while the cumulative share stays within ABC_A_SHARE %, B within ABC_B_SHARE %, the rest C
    ABC_A_SHARE = int(os.environ.get("ABC_A_SHARE", "70"))
    ABC_B_SHARE = int(os.environ.get("ABC_B_SHARE", "90"))
    # this many approved orders in the 12 months lift a customer one class (C → B, B → A)
    ABC_FREQUENT_ORDERS = int(os.environ.get("ABC_FREQUENT_ORDERS", "6"))
    # 预警中心: an A/B customer with neither an approved order nor a follow-up for more days than this
    ABC_CHURN_WARN_DAYS = int(os.environ.get("ABC_CHURN_WARN_DAYS", "60"))

    # Stock (DOMAIN.md "Purchasing and inventory"): negative stock is refused unless a company opts in
    # 预警中心: hours before an unhandled alert goes up a level; hours an approval may wait before it is an alert
    ALERT_ESCALATE_HOURS = float(os.environ.get("ALERT_ESCALATE_HOURS", "48"))
    ALERT_APPROVAL_HOURS = float(os.environ.get("ALERT_APPROVAL_HOURS", "24"))
    # 售后服务: hours from a request's receipt to its due time, per priority (missing ones keep their default:
    # urgent 4, high 24, normal 72, low 168); an overdue request raises an alert that escalates like the others
    SERVICE_DUE_HOURS: dict = {}
    STOCK_ALLOW_NEGATIVE = os.environ.get("STOCK_ALLOW_NEGATIVE", "0").lower() in ("1", "true", "yes")

    # 打印: the letterhead of printed documents; unset, the page shows a neutral 公司名称 placeholder
    COMPANY_NAME = os.environ.get("COMPANY_NAME", "")
    COMPANY_ADDRESS = os.environ.get("COMPANY_ADDRESS", "")
    COMPANY_PHONE = os.environ.get("COMPANY_PHONE", "")

    def __init__(self) -> None:
        self.SECRET_KEY = _secret_key()
        self.SQLALCHEMY_DATABASE_URI = _database_url()


class TestConfig(Config):
    TESTING = True
    # One scrypt check costs about 0.09 s and the suite logs in thousands of times: tests hash with a single
    # PBKDF2 round. Production keeps FAB's scrypt default (Config sets nothing).
    FAB_PASSWORD_HASH_METHOD = "pbkdf2:sha256:1"
    # FAB checks this hash when the user is unknown, so that a wrong user name costs as much as a wrong password
    AUTH_DB_FAKE_PASSWORD_HASH_CHECK = "pbkdf2:sha256:1$fakesalt$" + "0" * 64
    WTF_CSRF_ENABLED = False
    RATELIMIT_ENABLED = False
    AUTH_RATE_LIMITED = False


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    DEBUG = False  # never the Werkzeug debugger in production, whatever FLASK_DEBUG says

    def __init__(self) -> None:
        if not os.environ.get("SECRET_KEY"):
            raise RuntimeError("SECRET_KEY must be set in production (the same value on every app server)")
        super().__init__()

    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True, "pool_size": 10, "max_overflow": 20}
