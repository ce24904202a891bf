"""hocba — Sổ theo dõi và đánh giá học sinh (TT22) and Học bạ số for Vietnamese THCS schools."""

__version__ = "0.1.0"
