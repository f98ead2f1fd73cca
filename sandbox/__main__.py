"""`python -m sandbox` runs the same command line as `refund-sandbox`."""

from sandbox.cli import main

if __name__ == "__main__":
    main()
