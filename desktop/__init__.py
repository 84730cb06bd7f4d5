"""CertDesk core: Qt-free domain rules, services, device drivers, face, printing, sync policy."""

__version__ = "0.1.0"
APP_NAME = "CertDesk"
APP_NAME_ZH = "社保待遇资格认证柜台系统"
APP_ID = "cn.gov.arxan.certdesk"
