/*
 * The page-cache limit for bench/catalog.sh: SHA-1 (OpenSSL's EVP) of whole files, on every
 * core, each file mapped 4 MB at a time, the next file to whichever thread is free. Nothing
 * else: no parsing, no catalog, no error handling beyond giving up. drvsign reads the files
 * the same way, so its time against this one is what its own work costs; this one's time
 * against `openssl speed` is what reading files from the page cache costs.
 * Usage: hashloop THREADS FILE...   prints the wall time in seconds.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define WINDOW ((size_t)4 << 20)

static char **files;
static int file_count;
static atomic_int next_file;

static void die(const char *what, const char *path)
{
    fprintf(stderr, "hashloop: %s: %s\n", path, what);
    exit(1);
}

static void *worker(void *unused)
{
    EVP_MD *sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    (void)unused;
    if (sha1 == NULL || ctx == NULL)
        die("no SHA-1", "OpenSSL");
    for (int i; (i = atomic_fetch_add(&next_file, 1)) < file_count;) {
        struct stat st;
        unsigned char digest[EVP_MAX_MD_SIZE];
        int fd = open(files[i], O_RDONLY);
        if (fd < 0 || fstat(fd, &st) != 0 || !EVP_DigestInit_ex(ctx, sha1, NULL))
            die("cannot open", files[i]);
        for (off_t off = 0; off < st.st_size; off += (off_t)WINDOW) {
            size_t n = (size_t)(st.st_size - off) < WINDOW ? (size_t)(st.st_size - off) : WINDOW;
            void *map = mmap(NULL, n, PROT_READ, MAP_SHARED, fd, off);
            if (map == MAP_FAILED || !EVP_DigestUpdate(ctx, map, n))
                die("cannot map", files[i]);
            munmap(map, n);
        }
        if (!EVP_DigestFinal_ex(ctx, digest, NULL))
            die("cannot hash", files[i]);
        close(fd);
    }
    EVP_MD_CTX_free(ctx);
    EVP_MD_free(sha1);
    return NULL;
}

int main(int argc, char **argv)
{
    pthread_t threads[64];
    struct timespec t0, t1;
    int n = argc > 1 ? atoi(argv[1]) : 0;

    if (argc < 3 || n < 1 || n > 64) {
        fprintf(stderr, "usage: hashloop THREADS FILE...\n");
        return 2;
    }
    files = argv + 2;
    file_count = argc - 2;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < n; i++)
        if (pthread_create(&threads[i], NULL, worker, NULL) != 0)
            die("cannot start a thread", "pthread");
    for (int i = 0; i < n; i++)
        pthread_join(threads[i], NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("%.4f\n", (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    return 0;
}
