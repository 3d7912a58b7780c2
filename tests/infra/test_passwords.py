"""Console passwords are hashed with argon2id at the library's current defaults."""

from infra.passwords import hash_password, needs_rehash, password_problem, verify_password


def test_a_password_hashes_to_argon2id_and_verifies_only_itself():
    stored = hash_password("correct horse battery staple")
    assert stored.startswith("$argon2id$")
    assert verify_password(stored, "correct horse battery staple")
    assert not verify_password(stored, "correct horse battery stapler")
    assert not verify_password(None, "correct horse battery staple")
    assert not verify_password("not a hash", "x")
    assert not needs_rehash(stored)


def test_a_weak_or_odd_password_is_refused_with_the_reason():
    assert password_problem("short") == "a password has at least 12 characters"
    assert password_problem(" twelve chars and a space") is not None
    assert password_problem("x" * 2000) == "a password has at most 1024 characters"
    assert password_problem("a long enough password") is None
