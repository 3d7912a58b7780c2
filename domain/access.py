"""Who may do what: the roles of Secretariat users, ordered by what they allow."""

from enum import StrEnum

from domain.text import ACTOR_MAX


class Role(StrEnum):
    """A user's role; each allows everything the ones before it allow.

    viewer: reads matches. staff: also submits EOIs, enters answers on a partner's behalf and
    applies Secretariat actions. admin: everything, the management of users and keys included.
    """

    VIEWER = "viewer"
    STAFF = "staff"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    def allows(self, needed: "Role") -> bool:
        """Whether this role may do what ``needed`` may."""
        return self.rank >= needed.rank


# A user's address becomes the actor of what they do ("secretariat:<address>",
# "<address> for the provider"): it must fit the history's actor column with those words.
USER_EMAIL_MAX = ACTOR_MAX - len("secretariat:") - len(" for the provider") - 20
