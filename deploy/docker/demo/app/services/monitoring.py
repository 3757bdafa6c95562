"""Health reporting: the module release 1.4.2 forgot to ship."""


def health():
    return b"ok\n"
