"""The user guides are reachable from the app's help menu, one per role."""

from django.urls import reverse

from hocba.web.views import GUIDES


def test_every_role_guide_is_served_in_vietnamese_from_the_help_menu(client, school_admin):
    client.force_login(school_admin)
    home = client.get(reverse("home")).content.decode()
    assert f'href="{reverse("help_index")}"' in home and "Hướng dẫn" in home
    index = client.get(reverse("help_index")).content.decode()
    for slug, title in GUIDES:
        assert reverse("help_page", args=[slug]) in index
        page = client.get(reverse("help_page", args=[slug]))
        assert page.status_code == 200, slug
        body = page.content.decode()
        assert "<h1>" in body and "Hướng dẫn" in body


def test_the_guides_give_the_deadlines_of_the_school_year(client, db):
    body = client.get(reverse("help_page", args=["giao-vien"])).content.decode()
    assert "29/5" in body and "lớp 9: 15/5" in body


def test_an_unknown_guide_is_a_vietnamese_404(client, db):
    response = client.get(reverse("help_page", args=["khong-co"]))
    assert response.status_code == 404
    assert "Không tìm thấy trang" in response.content.decode()


def test_every_page_loads_its_scripts_and_styles(client, db):
    """A renamed static file would silently break every page's behaviour; the base template's must exist."""
    import re

    from django.contrib.staticfiles import finders

    page = client.get(reverse("login")).content.decode()
    assets = re.findall(r'(?:src|href)="/static/([^"]+)"', page)
    assert any(a.endswith(".js") for a in assets) and any(a.endswith(".css") for a in assets)
    for asset in assets:
        assert finders.find(asset), f"missing static file {asset}"
