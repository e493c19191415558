"""One module per command; each has add_parser(subparsers) and run(args) -> exit code.

Modules here import nothing heavy at the top: the parser imports all of them.
"""

COMMANDS = ("validate", "resolve", "list", "show", "history", "compare", "promote", "archive", "rollback",
            "register", "pull", "schema", "codeowners", "audit", "site", "init", "import_mlflow", "ci", "serve",
            "deploy", "evaluate", "sagemaker", "import_sagemaker", "sha256", "sign", "import_gto")
