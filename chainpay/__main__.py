from .cli.main import entry

if __name__ == "__main__":  # not when a spawned study worker re-imports the main module
    entry()
