"""Display constants shared by the services and the pages, in a module that imports nothing.

The pages need these while the window is being built (role names in a combo box, the password
rule, the recovery methods, the home-visit reasons); importing them from the services would pull
SQLAlchemy and argon2 onto the GUI thread's start-up path. The services re-export them, so both
names refer to the same objects.
"""

from __future__ import annotations

# desktop.services.operators
ROLES = ("clerk", "supervisor", "admin")
ROLE_ZH = {"clerk": "经办员", "supervisor": "审核主管", "admin": "系统管理员"}
MIN_LENGTH = 8

# desktop.services.deaths
METHOD_ZH = {"lump_sum": "一次性退回", "instalments": "分期退回", "offset": "从后续待遇中抵扣"}

# desktop.services.visits
REASONS_ZH = ("行动不便", "卧床", "高龄", "重病", "其他")
