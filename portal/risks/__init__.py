"""The risk register of risk-review rooms (リスク点検型): risks, reviews, proposals from the think tank."""
