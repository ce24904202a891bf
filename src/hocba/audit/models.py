"""The audit trail: one row per action, written in the action's own transaction.

Events form a hash chain per school (scope = school id; 0 for events of the deployment itself): each
event stores its sequence number in the scope, the previous event's hash and its own hash over its
content, so that editing, deleting, inserting or reordering rows breaks the chain (``hocba audit verify``).
``AuditChainHead`` holds the last sequence number and hash of each scope; writers lock it, which also
orders the events of one school.
"""

from django.conf import settings
from django.db import models


class AuditEvent(models.Model):
    school = models.ForeignKey("school.School", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+")
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=80, db_index=True)
    object_type = models.CharField(max_length=80, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=250, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    extra = models.JSONField(default=dict, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(db_index=True)
    scope = models.BigIntegerField(default=0)
    seq = models.BigIntegerField(default=0)
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["school", "id"])]
        constraints = [models.UniqueConstraint(fields=["scope", "seq"], name="audit_scope_seq_unique")]
        verbose_name = "sự kiện nhật ký"

    def __str__(self) -> str:
        return f"{self.created_at:%d/%m/%Y %H:%M} {self.actor_name} {self.action} {self.object_repr}"


class AuditChainHead(models.Model):
    scope = models.BigIntegerField(unique=True)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, blank=True)


class AuditCheckpoint(models.Model):
    """A signed checkpoint of one school's chain: the school's seal (con dấu số) over a canonical statement
    of ``scope``, ``seq``, ``hash`` (the event at ``seq`` in that chain) and ``at``, as a detached CMS with an
    RFC 3161 timestamp (``hocba.identities.cms``). A history rewritten later, even one that recomputes every
    hash, no longer has ``hash`` at ``seq``; the signature cannot be recomputed without the seal's key, and
    its trusted timestamp cannot be moved back to ``at`` (``hocba.audit.checkpoint``)."""

    school = models.ForeignKey("school.School", on_delete=models.PROTECT, related_name="+")
    scope = models.BigIntegerField()
    seq = models.BigIntegerField()
    hash = models.CharField(max_length=64)
    at = models.DateTimeField()
    statement = models.TextField()  # the canonical JSON that was signed, byte for byte (UTF-8)
    signature = models.BinaryField()  # DER CMS ContentInfo, detached over ``statement``
    signer_fingerprint = models.CharField(max_length=64)  # SHA-256 of the seal certificate (DER), hex
    signer_name = models.CharField(max_length=250, blank=True)

    class Meta:
        ordering = ["scope", "seq"]
        constraints = [models.UniqueConstraint(fields=["scope", "seq"], name="audit_checkpoint_scope_seq_unique")]
        verbose_name = "điểm niêm phong nhật ký"

    def __str__(self) -> str:
        return f"Niêm phong chuỗi {self.scope} tại số thứ tự {self.seq} ({self.at:%d/%m/%Y %H:%M})"
