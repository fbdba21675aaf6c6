"""Members: accounts and logins (``accounts``), API tokens (``tokens``), admission by daily capacity
(``waitlist``), and a member's control over their data: export everything (``export``) and withdraw for good
(``withdrawal``)."""
