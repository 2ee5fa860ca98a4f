"""sopipe: the second-opinion pipeline.

Every process that runs this code imports this package first: the `sopipe` command (`pipeline.cli`) and the
validation children it spawns (`pipeline.shell.validation_reports`). So here, and only here, one known warning of a
dependency is kept from the user's terminal; everything else is shown as Python shows it.
"""

import warnings as _warnings

# cryptography (>= 47) says "DSA is deprecated" (a CryptographyDeprecationWarning, a UserWarning) when pyHanko
# imports its DSA key types, which it does on import, so on every command. sopipe never uses DSA keys: this one
# message, raised on behalf of pyHanko's modules, is not shown; any other warning of either library still is.
# (Matched by message, category and module, without importing cryptography: `sopipe --help` stays fast.)
_warnings.filterwarnings("ignore", message=r"DSA is deprecated", category=UserWarning, module=r"pyhanko(\..*)?$")
