from hocba.school.permissions import principal_of


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    p = principal_of(user)
    return {"hocba_principal": p, "hocba_role_label": p.primary_role and dict(
        __import__("hocba.school.models", fromlist=["Role"]).Role.choices)[p.primary_role]}
