"""`python -m bot` is `mentorbot`."""

from bot.cli import main

main()
