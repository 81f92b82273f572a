"""`python -m onno`: the same as the `onno` command."""

from onno.cli import main

if __name__ == "__main__":
    main()
