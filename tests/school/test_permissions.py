"""Per-object permissions: who sees which school's figures."""

from hocba.school.permissions import can_view_statistics, statistics_schools


def test_parents_and_students_do_not_see_school_statistics(make_user, school):
    parent = make_user("cha", "parent", school, staff=False)
    student = make_user("con", "student", school, staff=False)
    assert not can_view_statistics(parent, school)
    assert not can_view_statistics(student, school)
    assert not statistics_schools(parent).exists()


def test_a_district_sees_the_statistics_of_its_own_schools_only(make_user, school, other_school, division,
                                                                  department):
    from hocba.school.models import Division, School

    far_division = Division.objects.create(department=department, code="999", name="Phòng GDĐT Khác")
    far = School.objects.create(department=department, division=far_division, code="79999001",
                                name="Trường THCS Xa", commune_name="X", province_name="Y", province_code="79")
    phong = make_user("phong", "district", staff=False, division=division)
    assert set(statistics_schools(phong)) == {school, other_school}
    assert can_view_statistics(phong, school) and not can_view_statistics(phong, far)


def test_teachers_see_their_own_schools_statistics(make_user, school, other_school):
    teacher = make_user("gv", "teacher", school)
    assert can_view_statistics(teacher, school) and not can_view_statistics(teacher, other_school)
