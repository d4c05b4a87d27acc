// Uniform random numbers for the compiled segregated-dendrite network (brian_segdend.fastrng).
//
// Generator: xoshiro256+ (Blackman & Vigna, "Scrambled linear pseudorandom number
// generators", 2018/2021), state filled from the 64-bit seed with the splitmix64 sequence.
// A double in [0, 1) takes the top 53 bits of one 64-bit output. Brian2's own rand() takes
// two std::mt19937 outputs per double; this is several times faster, which matters here:
// the Poisson spike thresholds draw ~70,000 numbers per training example.
//
// One global state (the network runs single-threaded). Seeded once per run, before the
// first step, from the run-time seed (see brian_segdend.buildcache.apply_run_args_and_seed).
#ifndef BRIAN_SEGDEND_RNG_H
#define BRIAN_SEGDEND_RNG_H
#include <stdint.h>

namespace segdend {

inline uint64_t* rng_state() {
    // a fixed non-zero default, replaced by rng_seed() before the run starts
    static uint64_t state[4] = {0x0123456789ABCDEFULL, 0x1F2E3D4C5B6A7988ULL,
                                0x7766554433221100ULL, 0x0F1E2D3C4B5A6978ULL};
    return state;
}

inline uint64_t splitmix64_next(uint64_t& z) {
    z += 0x9E3779B97F4A7C15ULL;
    uint64_t x = z;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

inline void rng_seed(uint64_t seed) {
    uint64_t* s = rng_state();
    uint64_t z = seed;
    for (int k = 0; k < 4; k++)
        s[k] = splitmix64_next(z);   // never all zero: splitmix64 is a bijection of distinct inputs
}

inline double rng_uniform() {
    uint64_t* s = rng_state();
    const uint64_t out = s[0] + s[3];
    const uint64_t shifted = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= shifted;
    s[3] = (s[3] << 45) | (s[3] >> 19);
    return (double)(out >> 11) * (1.0 / 9007199254740992.0);   // 2^-53
}

}  // namespace segdend
#endif
