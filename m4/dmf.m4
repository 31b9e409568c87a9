# DMF_REQUIRE_PKG(VAR, MODULES, DEBIAN-PACKAGE)
# Find MODULES with pkg-config into VAR_CFLAGS/VAR_LIBS or stop configure
# with a message naming the Debian package that provides them.
AC_DEFUN([DMF_REQUIRE_PKG], [
  PKG_CHECK_MODULES([$1], [$2], [],
    [AC_MSG_ERROR([$2 not found ($$1_PKG_ERRORS). On Debian/Ubuntu install it with: apt-get install $3])])
])

# AX_PTHREAD_SIMPLE: POSIX threads through -pthread (glibc, clang, gcc).
AC_DEFUN([AX_PTHREAD_SIMPLE], [
  PTHREAD_CFLAGS="-pthread"
  PTHREAD_LIBS="-pthread"
  AC_SUBST([PTHREAD_CFLAGS])
  AC_SUBST([PTHREAD_LIBS])
])
