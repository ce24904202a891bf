"""A school's data in the sector's JSON format: the seed that makes the simulator serve this school.

``hocba sync export --school CODE --out FILE`` writes it; ``python -m hocba.interop.simulator --seed FILE``
loads it. The demo uses it so that the simulator holds the demo school, and pulling from it changes nothing
until somebody changes the sector's copy. Read-only.
"""

from __future__ import annotations

from collections import defaultdict

from hocba.school.models import Enrolment, School, SchoolClass, Staff, Student, TeachingAssignment


def _date(value) -> str | None:
    return value.isoformat() if value else None


def school_item(school: School) -> dict:
    return {"code": school.code, "name": school.name, "level_code": school.level_code,
            "department_code": school.department.code, "department_name": school.department.name,
            "division_code": school.division.code if school.division_id else "",
            "division_name": school.division.name if school.division_id else "",
            "commune_name": school.commune_name, "commune_code": school.commune_code,
            "province_name": school.province_name, "province_code": school.province_code, "address": school.address}


def sector_data(school: School) -> dict[str, list[dict]]:
    staff = [{"school_code": school.code, "staff_code": s.staff_code, "personal_number": s.personal_number,
              "full_name": s.full_name, "gender": s.gender, "birth_date": _date(s.birth_date), "position": s.position,
              "specialty": s.specialty, "email": s.email, "phone": s.phone, "active": s.is_active}
             for s in Staff.objects.filter(school=school).order_by("staff_code")]
    classes = [{"school_code": school.code, "school_year": c.year.name, "name": c.name, "grade": c.grade,
                "homeroom_staff_code": c.homeroom_teacher.staff_code if c.homeroom_teacher_id else None}
               for c in SchoolClass.objects.filter(school=school).select_related("year", "homeroom_teacher")
               .order_by("year__name", "name")]
    enrolments = defaultdict(list)
    for e in (Enrolment.objects.filter(school=school).select_related("year", "school_class")
              .order_by("year__name")):
        enrolments[e.student_id].append({"school_year": e.year.name, "class_name": e.school_class.name,
                                         "status": e.status, "status_date": _date(e.status_date),
                                         "other_school": e.other_school})
    students = [{"school_code": school.code, "student_code": s.student_code, "personal_number": s.personal_number,
                 "full_name": s.full_name, "gender": s.gender, "birth_date": _date(s.birth_date),
                 "birthplace": s.birthplace, "hometown": s.hometown, "residence": s.residence,
                 "ethnicity": s.ethnicity, "nationality": s.nationality, "policy_group": s.policy_group,
                 "disabled_not_assessed": s.disabled_not_assessed, "father_name": s.father_name,
                 "father_occupation": s.father_occupation, "mother_name": s.mother_name,
                 "mother_occupation": s.mother_occupation, "guardian_name": s.guardian_name,
                 "guardian_occupation": s.guardian_occupation, "enrolments": enrolments.get(s.pk, [])}
                for s in Student.objects.filter(school=school).order_by("student_code")]
    assignments = [{"school_code": school.code, "school_year": a.school_class.year.name,
                    "class_name": a.school_class.name, "subject_code": a.subject.code, "semester": a.semester,
                    "staff_code": a.teacher.staff_code, "deleted": False}
                   for a in TeachingAssignment.objects.filter(school=school)
                   .select_related("school_class__year", "subject", "teacher").order_by("id")]
    return {"schools": [school_item(school)], "staff": staff, "classes": classes, "students": students,
            "assignments": assignments}
