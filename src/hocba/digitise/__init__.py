"""Số hóa học bạ giấy (issue 8): earlier years and transfer students' paper books entered per year and subject
with the scan attached, reviewed and signed, and issued as học bạ số through the records pipeline."""
