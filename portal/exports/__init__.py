"""Exports (PDF, DOCX, Markdown) made for one reader: withheld portions, banners and a watermark."""
