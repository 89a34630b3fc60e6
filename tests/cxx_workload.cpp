// A C++ workload for the symbol-option tests: templates, a namespace, a lambda behind
// std::function, a static function and an always_inline helper, built with -O0 -g so
// that frame pointers give callchains and the names need demangling.
#include <cstdio>
#include <functional>

namespace ns {
template <typename T> struct Box {
    T v;
    __attribute__((noinline)) T spin(int n) const { T s = 0; for (int i = 0; i < n; i++) s += v * i % 7; return s; }
};
static inline __attribute__((always_inline)) long inl(long x) { long s = 0; for (long i = 0; i < x; i++) s += i ^ x; return s; }
__attribute__((noinline)) long outer(long x) { return inl(x) + 1; }
template <typename T> __attribute__((noinline)) T tf(T x, std::function<void(int)> *f) {
    T s = 0; for (int i = 0; i < 20000; i++) s += x * (i % 5); if (f) (*f)(1); return s;
}
}

static long sq(int i) { return (long)i * i % 3; }
extern "C" __attribute__((noinline)) long cfunc(long (*fp)(int)) { long s = 0; for (int i = 0; i < 20000; i++) s += fp(i); return s; }

__attribute__((noinline)) long work(int n) {
    ns::Box<long> b{3};
    long t = b.spin(n) + ns::outer(n);
    auto lam = [&](int k) { for (int i = 0; i < 20000; i++) t += i % (k + 1); };
    std::function<void(int)> f = lam;
    t += ns::tf<long>(n, &f) + ns::tf<double>(2.0, nullptr) + cfunc(sq);
    return t;
}

int main() { long t = 0; for (int k = 0; k < 300; k++) t += work(20000); printf("%d\n", t > 0); return 0; }
