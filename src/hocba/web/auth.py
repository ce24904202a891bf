"""Login with lockout after repeated failures, logout and password change, all through actions."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_POST

from hocba.school import actions


class LoginForm(forms.Form):
    username = forms.CharField(label="Tên đăng nhập", max_length=150,
                               widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}))
    password = forms.CharField(label="Mật khẩu", strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))

    def __init__(self, request, *args, **kwargs):
        self.request = request
        self.user = None
        super().__init__(*args, **kwargs)

    def clean(self):
        username = (self.cleaned_data.get("username") or "").strip()
        password = self.cleaned_data.get("password") or ""
        if not username or not password:
            return self.cleaned_data
        locked = actions.login_locked_until(username)
        if locked:
            minutes = max(1, int((locked - timezone.now()).total_seconds() // 60) + 1)
            raise forms.ValidationError(
                f"Tài khoản tạm khoá do đăng nhập sai nhiều lần. Vui lòng thử lại sau {minutes} phút "
                "hoặc liên hệ quản trị trường.", code="locked")
        user = authenticate(self.request, username=username, password=password)
        if user is None:
            row = actions.register_failed_login(username, max_failures=settings.HOCBA_LOGIN_MAX_FAILURES,
                                                lock_seconds=settings.HOCBA_LOGIN_LOCK_SECONDS)
            if row.locked_until and row.locked_until > timezone.now():
                raise forms.ValidationError(
                    "Đăng nhập sai quá nhiều lần: tài khoản tạm khoá "
                    f"{settings.HOCBA_LOGIN_LOCK_SECONDS // 60} phút.", code="locked")
            raise forms.ValidationError("Tên đăng nhập hoặc mật khẩu không đúng.", code="invalid")
        self.user = user
        return self.cleaned_data


@never_cache
@csrf_protect
def login_view(request):
    if request.user.is_authenticated:
        return redirect("home")
    form = LoginForm(request, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        login(request, form.user)
        actions.register_login(form.user)
        target = request.POST.get("next") or request.GET.get("next")
        if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                      require_https=request.is_secure()):
            return redirect(target)
        return redirect(settings.LOGIN_REDIRECT_URL)
    return render(request, "registration/login.html", {"form": form, "next": request.GET.get("next", "")})


@require_POST
def logout_view(request):
    logout(request)
    messages.info(request, "Bạn đã đăng xuất.")
    return redirect("login")


class PasswordChangeForm(forms.Form):
    old_password = forms.CharField(label="Mật khẩu hiện tại", strip=False, widget=forms.PasswordInput)
    new_password = forms.CharField(label="Mật khẩu mới", strip=False, widget=forms.PasswordInput,
                                   help_text="Ít nhất 10 kí tự, không quá đơn giản, không chỉ gồm chữ số.")
    new_password2 = forms.CharField(label="Nhập lại mật khẩu mới", strip=False, widget=forms.PasswordInput)

    def clean(self):
        data = super().clean()
        if data.get("new_password") and data.get("new_password") != data.get("new_password2"):
            self.add_error("new_password2", "Hai mật khẩu mới không giống nhau.")
        return data


@login_required
@never_cache
def password_change_view(request):
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.change_password(request.user, old_password=form.cleaned_data["old_password"],
                                    new_password=form.cleaned_data["new_password"])
        except actions.ActionError as exc:
            for field, errors in exc.message_dict.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        else:
            update_session_auth_hash(request, request.user)
            messages.success(request, "Đã đổi mật khẩu.")
            return redirect("home")
    return render(request, "registration/password_change.html", {"form": form})
