"""The charter's rules as policies: pure functions of (text or attachment, config, clock).

- `identifying`: article 2, identifying data in free text;
- `attachments`: article 2, non-text content refused;
- `hours`: article 3, the opening-hours calendar;
- `safety`: article 6, urgency and distress.
"""
