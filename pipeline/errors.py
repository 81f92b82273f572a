"""Errors the pipeline raises for input a user can fix, each with what went wrong and what to do."""


class InputError(Exception):
    """The user's input cannot be processed; `hint` says what to do about it."""

    def __init__(self, problem: str, hint: str = ""):
        super().__init__(problem)
        self.problem = problem
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.problem} {self.hint}".strip()
