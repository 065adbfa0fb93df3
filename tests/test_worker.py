"""The job's side of the bench: what it hands a blend."""

from pricer_core.bench.worker import offer_members


class NewBlend:
    def offer_members(self, fitted, registry=None):
        self.got = (fitted, registry)


class OldBlend:
    """Written before blends were handed the registry: takes the members alone."""

    def offer_members(self, fitted):
        self.got = fitted


def test_a_blend_gets_the_registry_when_it_takes_one_and_the_members_alone_when_not():
    new, old = NewBlend(), OldBlend()
    offer_members(new, {"a": 1}, {"a": "registration"})
    offer_members(old, {"a": 1}, {"a": "registration"})
    assert new.got == ({"a": 1}, {"a": "registration"}) and old.got == {"a": 1}
