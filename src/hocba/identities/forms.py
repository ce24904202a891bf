"""Forms of the identity pages. They only parse input; the actions check the certificate and write."""

from __future__ import annotations

from django import forms

from .models import SigningIdentity

SOURCE_CHOICES = [
    ("upload", "Tải lên tệp chứng thư số (.cer, .crt, .pem)"),
    ("token", "Đọc từ thiết bị ký số (token PKCS#11) cắm vào máy chủ"),
    ("csc", "Lấy từ tài khoản ký số từ xa (SmartCA, MySign… qua CSC API)"),
]


class RegisterForm(forms.Form):
    source = forms.ChoiceField(label="Lấy chứng thư số từ", choices=SOURCE_CHOICES, widget=forms.RadioSelect,
                               initial="upload")
    # upload
    certificate = forms.FileField(label="Tệp chứng thư số (PEM hoặc DER; có thể kèm chứng thư số CA)",
                                  required=False)
    backend = forms.ChoiceField(label="Khoá bí mật nằm ở", choices=SigningIdentity.Backend.choices,
                                required=False, initial=SigningIdentity.Backend.SERVER_PKCS12)
    path = forms.CharField(label="Tệp khoá trên máy chủ (đường dẫn trong thư mục var/pki, ví dụ p12/gv.toan.p12)",
                           required=False, max_length=250)
    password_env = forms.CharField(label="Biến môi trường chứa mật khẩu tệp khoá (bỏ trống với PKI minh hoạ)",
                                   required=False, max_length=100)
    # token
    module = forms.CharField(label="Thư viện PKCS#11 của token (ví dụ /usr/lib/softhsm/libsofthsm2.so)",
                             required=False, max_length=250)
    token_label = forms.CharField(label="Tên (nhãn) token", required=False, max_length=100)
    key_label = forms.CharField(label="Nhãn khoá (bỏ trống: tìm chứng thư số mang tên người ký)", required=False,
                                max_length=100)
    pin = forms.CharField(label="Mã PIN (chỉ dùng để đọc token lúc này, không lưu)", required=False,
                          widget=forms.PasswordInput, max_length=64)
    pin_env = forms.CharField(label="Biến môi trường chứa mã PIN khi ký", required=False, max_length=100)
    # csc
    service_url = forms.URLField(label="Địa chỉ dịch vụ ký số từ xa", required=False, assume_scheme="https")
    credential_id = forms.CharField(label="Mã tài khoản ký (credential ID; bỏ trống: tìm theo tên người ký)",
                                    required=False, max_length=250)
    user_id = forms.CharField(label="Mã người dùng tại dịch vụ (userID, nếu dịch vụ yêu cầu)", required=False,
                              max_length=250)
    auth_env = forms.CharField(label="Biến môi trường chứa tài khoản dịch vụ (tên:mật-khẩu, nếu cần)",
                               required=False, max_length=100)

    REQUIRED = {
        "upload": ("certificate", "backend"),
        "token": ("module", "token_label", "pin"),
        "csc": ("service_url",),
    }

    def clean(self):
        data = super().clean()
        for name in self.REQUIRED.get(data.get("source"), ()):
            if not data.get(name):
                self.add_error(name, "Cần điền mục này.")
        if data.get("source") == "upload" and data.get("certificate") and data["certificate"].size > 64 * 1024:
            self.add_error("certificate", "Tệp chứng thư số không quá 64 KB.")
        return data

    def backend_params(self) -> dict:
        """Parameters of the chosen backend for an uploaded certificate."""
        d = self.cleaned_data
        by_backend = {
            SigningIdentity.Backend.SERVER_PKCS12: ("path", "password_env"),
            SigningIdentity.Backend.PKCS11: ("module", "token_label", "key_label", "pin_env"),
            SigningIdentity.Backend.CSC: ("service_url", "credential_id", "auth_env"),
        }
        return {k: d[k] for k in by_backend.get(d.get("backend"), ()) if d.get(k)}


class DeactivateForm(forms.Form):
    reason = forms.CharField(label="Lí do ngừng sử dụng", max_length=250)
