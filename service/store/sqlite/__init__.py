"""The SQLite store: WAL, one writer thread with group commit, migrations, console queries."""
