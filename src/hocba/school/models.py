"""The school's data: organisation, years, classes, people, enrolments, subject plans, assignments, roles.

Tenancy is by school on shared tables: every row that belongs to a school carries ``school`` and every
selector filters on it. A student is a row per school, linked across years by enrolments and across
schools by the 12-digit personal number (số định danh cá nhân).
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from .names import is_valid_personal_number, normalise_name, vietnamese_sort_key

GRADES = [(6, "Lớp 6"), (7, "Lớp 7"), (8, "Lớp 8"), (9, "Lớp 9")]


def validate_personal_number(value: str) -> None:
    if not is_valid_personal_number(value):
        raise ValidationError("Số định danh cá nhân phải gồm đúng 12 chữ số, bắt đầu bằng mã tỉnh (001–096).")


class Department(models.Model):
    """Sở Giáo dục và Đào tạo."""

    code = models.CharField("mã sở", max_length=2, unique=True)
    name = models.CharField("tên sở", max_length=150)

    def __str__(self) -> str:
        return self.name


class Division(models.Model):
    """Phòng Giáo dục và Đào tạo."""

    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="divisions")
    code = models.CharField("mã phòng", max_length=10)
    name = models.CharField("tên phòng", max_length=150)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["department", "code"], name="division_code_unique")]

    def __str__(self) -> str:
        return self.name


class School(models.Model):
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="schools")
    division = models.ForeignKey(Division, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="schools")
    code = models.CharField("mã trường", max_length=20, unique=True)
    name = models.CharField("tên trường", max_length=150)
    level_code = models.CharField("mã cấp học", max_length=2, default="2")  # 2 = THCS
    commune_name = models.CharField("xã/phường", max_length=150)
    commune_code = models.CharField("mã xã/phường", max_length=5, blank=True)
    province_name = models.CharField("tỉnh/thành phố", max_length=150)
    province_code = models.CharField("mã tỉnh", max_length=2)
    address = models.CharField("địa chỉ", max_length=250, blank=True)

    def __str__(self) -> str:
        return self.name


class SchoolYear(models.Model):
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="years")
    name = models.CharField("năm học", max_length=9)  # YYYY-YYYY
    start_date = models.DateField("ngày bắt đầu")
    end_date = models.DateField("ngày kết thúc")
    is_current = models.BooleanField("năm học hiện tại", default=False)

    class Meta:
        ordering = ["school", "-name"]
        constraints = [models.UniqueConstraint(fields=["school", "name"], name="year_name_unique")]

    def __str__(self) -> str:
        return f"Năm học {self.name}"


class Semester(models.Model):
    year = models.ForeignKey(SchoolYear, on_delete=models.CASCADE, related_name="semesters")
    number = models.PositiveSmallIntegerField("học kì", choices=[(1, "Học kì I"), (2, "Học kì II")])
    start_date = models.DateField("ngày bắt đầu")
    end_date = models.DateField("ngày kết thúc")

    class Meta:
        ordering = ["year", "number"]
        constraints = [models.UniqueConstraint(fields=["year", "number"], name="semester_unique")]

    def __str__(self) -> str:
        return f"{self.get_number_display()} {self.year.name}"


class Subject(models.Model):
    """The national subject catalogue (TT22 §1); the per-year plan decides what a grade studies."""

    KIND_CHOICES = [("score", "Đánh giá bằng nhận xét kết hợp điểm số"), ("comment", "Đánh giá bằng nhận xét")]
    code = models.CharField("mã môn", max_length=10, unique=True)
    name = models.CharField("tên môn", max_length=150)
    kind = models.CharField("hình thức đánh giá", max_length=10, choices=KIND_CHOICES)
    integrated = models.BooleanField("môn tích hợp", default=False)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return self.name


class SubjectPlan(models.Model):
    """Kế hoạch giáo dục: one subject in one grade of one school year."""

    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    year = models.ForeignKey(SchoolYear, on_delete=models.PROTECT, related_name="subject_plans")
    grade = models.PositiveSmallIntegerField("khối", choices=GRADES)
    subject = models.ForeignKey(Subject, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField("hình thức đánh giá", max_length=10, choices=Subject.KIND_CHOICES)
    periods_per_year = models.PositiveSmallIntegerField("số tiết/năm")
    elective = models.BooleanField("tự chọn", default=False)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["year", "grade", "order"]
        constraints = [models.UniqueConstraint(fields=["year", "grade", "subject"], name="plan_unique")]

    def __str__(self) -> str:
        return f"{self.subject.name} – khối {self.grade} – {self.year.name}"

    @property
    def regular_assessments(self) -> int:
        """ĐĐGtx per semester (TT22 Điều 7.1): comment subjects 2; score subjects by periods per year."""
        if self.kind == "comment":
            return 2
        if self.periods_per_year <= 35:
            return 2
        if self.periods_per_year <= 70:
            return 3
        return 4


class Staff(models.Model):
    POSITION_CHOICES = [
        ("HT", "Hiệu trưởng"),
        ("PHT", "Phó hiệu trưởng"),
        ("GV", "Giáo viên"),
        ("NVHV", "Nhân viên học vụ"),
        ("QTT", "Quản trị trường"),
    ]
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="staff")
    user = models.OneToOneField(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="staff")
    staff_code = models.CharField("mã cán bộ", max_length=20)
    personal_number = models.CharField("số định danh cá nhân", max_length=12,
                                       validators=[validate_personal_number])
    full_name = models.CharField("họ và tên", max_length=150)
    sort_key = models.CharField(max_length=250, editable=False, db_index=True)
    gender = models.CharField("giới tính", max_length=1, choices=[("1", "Nam"), ("2", "Nữ")])
    birth_date = models.DateField("ngày sinh", null=True, blank=True)
    position = models.CharField("chức vụ", max_length=5, choices=POSITION_CHOICES, default="GV")
    specialty = models.CharField("chuyên môn", max_length=100, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField("điện thoại", max_length=20, blank=True)
    is_active = models.BooleanField("đang công tác", default=True)

    class Meta:
        ordering = ["school", "sort_key"]
        constraints = [
            models.UniqueConstraint(fields=["school", "personal_number"], name="staff_pn_unique"),
            models.UniqueConstraint(fields=["school", "staff_code"], name="staff_code_unique"),
        ]
        verbose_name = "cán bộ"

    def save(self, *args, **kwargs):
        self.full_name = normalise_name(self.full_name)
        self.sort_key = vietnamese_sort_key(self.full_name)
        super().save(*args, **kwargs)

    def __str__(self) -> str:
        return self.full_name


class SchoolClass(models.Model):
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="classes")
    year = models.ForeignKey(SchoolYear, on_delete=models.PROTECT, related_name="classes")
    grade = models.PositiveSmallIntegerField("khối", choices=GRADES)
    name = models.CharField("tên lớp", max_length=10)
    homeroom_teacher = models.ForeignKey(Staff, null=True, blank=True, on_delete=models.PROTECT,
                                         related_name="homeroom_classes", verbose_name="giáo viên chủ nhiệm")

    class Meta:
        ordering = ["year", "grade", "name"]
        constraints = [models.UniqueConstraint(fields=["year", "name"], name="class_name_unique")]
        verbose_name = "lớp"

    def __str__(self) -> str:
        return f"Lớp {self.name}"


class Student(models.Model):
    GENDER_CHOICES = [("1", "Nam"), ("2", "Nữ")]
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="students")
    personal_number = models.CharField("số định danh cá nhân", max_length=12,
                                       validators=[validate_personal_number])
    student_code = models.CharField("mã học sinh", max_length=20)
    full_name = models.CharField("họ và tên", max_length=150)
    sort_key = models.CharField(max_length=250, editable=False, db_index=True)
    gender = models.CharField("giới tính", max_length=1, choices=GENDER_CHOICES)
    birth_date = models.DateField("ngày sinh")
    birthplace = models.CharField("nơi sinh", max_length=250)
    hometown = models.CharField("quê quán", max_length=250)
    residence = models.CharField("nơi ở hiện nay", max_length=250)
    ethnicity = models.CharField("dân tộc", max_length=50, default="Kinh")
    nationality = models.CharField("quốc tịch", max_length=50, default="Việt Nam")
    policy_group = models.CharField("đối tượng chính sách", max_length=250, blank=True)
    disabled_not_assessed = models.BooleanField("khuyết tật không đánh giá", default=False)
    father_name = models.CharField("họ và tên cha", max_length=150, blank=True)
    father_occupation = models.CharField("nghề nghiệp của cha", max_length=150, blank=True)
    mother_name = models.CharField("họ và tên mẹ", max_length=150, blank=True)
    mother_occupation = models.CharField("nghề nghiệp của mẹ", max_length=150, blank=True)
    guardian_name = models.CharField("họ và tên người giám hộ", max_length=150, blank=True)
    guardian_occupation = models.CharField("nghề nghiệp của người giám hộ", max_length=150, blank=True)
    register_number = models.CharField("số đăng bộ", max_length=50, blank=True)

    class Meta:
        ordering = ["school", "sort_key"]
        constraints = [
            models.UniqueConstraint(fields=["school", "personal_number"], name="student_pn_unique"),
            models.UniqueConstraint(fields=["school", "student_code"], name="student_code_unique"),
        ]
        verbose_name = "học sinh"

    def save(self, *args, **kwargs):
        self.full_name = normalise_name(self.full_name)
        self.sort_key = vietnamese_sort_key(self.full_name)
        super().save(*args, **kwargs)

    def __str__(self) -> str:
        return self.full_name


class Enrolment(models.Model):
    STATUS_CHOICES = [
        ("studying", "Đang học"),
        ("transferred_in", "Chuyển đến"),
        ("transferred_out", "Chuyển đi"),
        ("dropped_out", "Thôi học"),
    ]
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    student = models.ForeignKey(Student, on_delete=models.PROTECT, related_name="enrolments")
    year = models.ForeignKey(SchoolYear, on_delete=models.PROTECT, related_name="+")
    school_class = models.ForeignKey(SchoolClass, on_delete=models.PROTECT, related_name="enrolments")
    status = models.CharField("tình trạng", max_length=20, choices=STATUS_CHOICES, default="studying")
    status_date = models.DateField("ngày thay đổi", null=True, blank=True)
    other_school = models.CharField("trường chuyển đến/đi", max_length=250, blank=True)

    class Meta:
        ordering = ["school_class", "student__sort_key"]
        constraints = [models.UniqueConstraint(fields=["student", "year"], name="enrolment_year_unique")]

    def __str__(self) -> str:
        return f"{self.student_id} → {self.school_class_id}"


class TeachingAssignment(models.Model):
    """Phân công giảng dạy: teacher × class × subject × semester (several teachers for an integrated one)."""

    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    school_class = models.ForeignKey(SchoolClass, on_delete=models.PROTECT, related_name="assignments")
    subject = models.ForeignKey(Subject, on_delete=models.PROTECT, related_name="+")
    semester = models.PositiveSmallIntegerField("học kì", choices=[(1, "Học kì I"), (2, "Học kì II")])
    teacher = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="assignments")

    class Meta:
        ordering = ["school_class", "subject__order", "semester"]
        constraints = [
            models.UniqueConstraint(fields=["school_class", "subject", "semester", "teacher"],
                                    name="assignment_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.teacher} – {self.subject} – {self.school_class.name} – HK{self.semester}"


class Role(models.TextChoices):
    SYSTEM_ADMIN = "system_admin", "Quản trị hệ thống"
    SCHOOL_ADMIN = "school_admin", "Quản trị trường"
    PRINCIPAL = "principal", "Hiệu trưởng"
    VICE_PRINCIPAL = "vice_principal", "Phó hiệu trưởng"
    TEACHER = "teacher", "Giáo viên"
    ACADEMIC_STAFF = "academic_staff", "Nhân viên học vụ"
    PARENT = "parent", "Phụ huynh"
    STUDENT = "student", "Học sinh"
    DISTRICT = "district", "Phòng/Sở GDĐT"


class Membership(models.Model):
    """A user's role, and where it applies: a school, a division (Phòng) or a department (Sở).

    GVCN and GVBM are not separate roles: a teacher's rights on a class follow from their assignments and
    homeroom classes, checked per object.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField("vai trò", max_length=20, choices=Role.choices)
    school = models.ForeignKey(School, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    division = models.ForeignKey(Division, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    department = models.ForeignKey(Department, null=True, blank=True, on_delete=models.CASCADE,
                                   related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "school", "division", "department"],
                                    name="membership_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} – {self.get_role_display()}"


class StudentAccess(models.Model):
    """A parent's or student's login, linked to the student(s) whose record they may read."""

    RELATION_CHOICES = [("self", "Học sinh"), ("father", "Cha"), ("mother", "Mẹ"), ("guardian", "Người giám hộ")]
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="student_access")
    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="+")
    relation = models.CharField(max_length=10, choices=RELATION_CHOICES)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "student"], name="student_access_unique")]


class LoginThrottle(models.Model):
    """Failed logins per user name; the account is locked for a while after too many."""

    username = models.CharField(max_length=150, unique=True)
    failures = models.PositiveSmallIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)


class RosterUpload(models.Model):
    """A roster file between its preview and its confirmation (nhập dữ liệu: tải lên → xem trước → nhập).

    The bytes are kept so that the confirmation imports exactly the file that was previewed (its SHA-256 goes
    into the audit event), re-checked against the database as it is at that moment.
    """

    KIND_CHOICES = [
        ("students", "Học sinh"),
        ("staff", "Cán bộ"),
        ("classes", "Lớp học"),
        ("assignments", "Phân công giảng dạy"),
    ]
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    year = models.ForeignKey(SchoolYear, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField("loại dữ liệu", max_length=20, choices=KIND_CHOICES)
    filename = models.CharField("tên tệp", max_length=255)
    sha256 = models.CharField(max_length=64)
    data = models.BinaryField()
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    committed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "tệp nhập dữ liệu"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} – {self.filename}"
