"""Reports drawn from insights: the recap as one self-contained HTML page (``report.html``, charts in
``report.charts``) and share cards (``report.cards``). Nothing is imported here, so that each loads only
what it needs (Altair and the chart bundle for the page, Pillow and fonts for the cards)."""
